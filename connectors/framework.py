"""What every connector's run does with the records its source yields.

A source yields :class:`Incoming` records in a stable order, each saying what to do with it
(:data:`Work`). The run takes them in batches: each batch commits in one transaction
together with the run's marker and counts (``hub.imports.runs.advance``), and each record is
written in a savepoint of its own, so that one the hub refuses becomes a dead letter
without undoing its neighbours. A run killed at any moment leaves whole batches only; run
again over the same bytes it resumes after the marker, and records already written are
found by ``(source, external_id)`` and their content hash, so nothing is lost or doubled.

An HTTP source also yields a :class:`Checkpoint` after each page: its batch commits with
the connector's page cursor moved past the page, so a run that dies goes on from the page
after the last one committed.
"""

from __future__ import annotations

import enum
import hashlib
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.delivery import Sessions
from hub.audit.ledger import Trail, trail
from hub.errors import HubError
from hub.imports.apply import Applied, apply_pledge, keep_unclaimed
from hub.imports.connectors import ConnectorConfig, principal_for
from hub.imports.linking import count_pending
from hub.imports.models import Connector, DeadLetter, LetterStatus, SyncRun
from hub.imports.records import NO_LINKS, Linking, PledgeRecord
from hub.imports.runs import (
    Resume,
    Traffic,
    advance,
    close_unreadable,
    dead_letter,
    finish,
    move_cursor,
    resolve,
    start_run,
)
from hub.money.service import RateCache

BATCH_SIZE = 100
BATCH_SECONDS = 2.0
"""A batch also ends after this long, so that the marker keeps up with slow records."""


@dataclass(frozen=True, slots=True)
class UnclaimedRecord:
    """A record someone else reported: kept for linking, never a pledge."""

    reporting_org: str | None
    content_hash: str
    reason: str
    linking: Linking = NO_LINKS


@dataclass(frozen=True, slots=True)
class Skip:
    """A record the connector's selection leaves out: counted, nothing written."""


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that cannot be mapped, and why: a dead letter. ``ends_run``: nothing after
    it can be read (a file broken from here); the run fails once its batch is committed."""

    reason: str
    ends_run: bool = False


Work = PledgeRecord | UnclaimedRecord | Skip | Reject


@dataclass(frozen=True, slots=True)
class Incoming:
    """One record of a source: its 1-based ``position``, where it is for people, its id in
    the source (when it has one), its raw payload (for dead letters), and what to do.
    A dead letter taken again is resolved, or keeps waiting with today's reason."""

    position: int
    source: str
    place: str
    external_id: str | None
    payload: str | None
    work: Work
    letter_id: int | None = None
    """The dead letter this record is read again from (``p2c-hub deadletters retry``)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The end of a page of an HTTP source: the pass goes on at ``cursor`` (the source's
    own terms, as JSON), or ended (None), and then the next pass asks for what changed
    since ``watermark``."""

    cursor: str | None
    watermark: str | None = None


Records = Iterable[Incoming | Checkpoint] | AsyncIterable[Incoming | Checkpoint]


@asynccontextmanager
async def _each(records: Records) -> AsyncIterator[AsyncIterator[Incoming | Checkpoint]]:
    """The records as one async iterator, closed when the run stops taking them (a source's
    request in flight is cancelled with it, not left to finish on its own)."""
    if isinstance(records, AsyncGenerator):
        async with aclosing(records):
            yield records
        return

    async def plain() -> AsyncIterator[Incoming | Checkpoint]:
        if isinstance(records, AsyncIterable):
            async for item in records:
                yield item
        else:
            for item in records:
                yield item

    yield plain()


def digest_of(stream: BinaryIO) -> str:
    """The SHA-256 of a source's bytes, which names what a run read (and resumes over); the
    stream is left at its start."""
    digest = hashlib.sha256()
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


class Taken(enum.StrEnum):
    """How a record counts in its run."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    UNCLAIMED = "unclaimed"
    SKIPPED = "skipped"


Progress = Callable[[int], None]
"""Told how many more records were read."""


class _Unreadable(Exception):
    """The source cannot be read on; its dead letter is committed."""


class Stopped(Exception):
    """The run stopped before its end (a source broken from some place on, a database that
    went away); its record says FAILED with ``reason``, and what its batches wrote stays."""

    def __init__(self, run: SyncRun, reason: str) -> None:
        super().__init__(reason)
        self.run = run


async def sync(
    sessions: Sessions,
    connector: Connector,
    source: str | None,
    digest: str | None,
    records: Callable[[Resume], Records],
    progress: Progress = lambda _: None,
    *,
    batch_size: int = BATCH_SIZE,
    traffic: Traffic | None = None,
    exclusive: bool = False,
) -> SyncRun:
    """Run ``connector`` over ``records(resume)``, which yields what comes after the marker.

    The run ends SUCCEEDED (rejected records are dead letters, not failures), or FAILED with
    the error when reading or writing stopped it: what earlier batches wrote stays, and
    :class:`Stopped` is raised after the run says so. ``exclusive``: the caller holds the
    connector's lock (``hub.imports.locks``).
    """
    async with sessions() as session:
        run, resume = await start_run(session, connector, source, digest, exclusive=exclusive)
        await session.commit()
    try:
        async with sessions() as session:
            taking = _Taking(session, connector, run, progress, batch_size, traffic)
            await taking.all(records(resume))
            await close_unreadable(session, run)
            finish(run, traffic=traffic)
            session.add(run)
            await session.commit()
    except Exception as error:
        reason = _one_line(error)
        async with sessions() as session:
            failed = await session.get(SyncRun, run.id, populate_existing=True)
            assert failed is not None  # committed when the run started
            finish(failed, reason, traffic)
            await session.commit()
        raise Stopped(failed, reason) from error
    return run


def _one_line(error: Exception) -> str:
    """What stopped a run, in one line: the hub's words, or the database's (never the SQL)."""
    if isinstance(error, HubError):
        return error.message
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = f"{cause}".strip().splitlines()
    return lines[0] if lines else type(error).__name__


class _Taking:
    """A run's records taken in batches, each committed with the run's marker (and, at a
    page's end, the connector's cursor)."""

    def __init__(
        self,
        session: AsyncSession,
        connector: Connector,
        run: SyncRun,
        progress: Progress,
        batch_size: int,
        traffic: Traffic | None,
    ) -> None:
        self.session, self.connector, self.run = session, connector, run
        self.progress, self.batch_size, self.traffic = progress, batch_size, traffic
        self.counts: Counter[str] = Counter()
        self.last, self.started = run.position, time.monotonic()

    async def all(self, incoming: Records) -> None:
        taker = _Taker(self.session, self.connector, self.run)
        await taker.load_open_letters()
        await self.session.commit()  # no transaction waits on the source (SQLite's is a lock)
        async with _each(incoming) as each:
            async for record in each:
                if isinstance(record, Checkpoint):
                    await self._commit(record)
                    continue
                self.counts["fetched"] += 1
                self.counts[await taker.take(record)] += 1
                self.last = record.position
                if isinstance(record.work, Reject) and record.work.ends_run:
                    await self._commit()
                    raise _Unreadable(record.work.reason)
                full = self.counts["fetched"] >= self.batch_size
                if full or time.monotonic() - self.started > BATCH_SECONDS:
                    await self._commit()
        await self._commit()

    async def _commit(self, checkpoint: Checkpoint | None = None) -> None:
        await count_pending(self.session)
        self.session.add(self.run)
        advance(self.run, self.last, self.counts, self.traffic)
        if checkpoint is not None:
            await move_cursor(
                self.session, self.connector.id, checkpoint.cursor, checkpoint.watermark
            )
        await self.session.commit()
        self.progress(self.counts["fetched"])
        self.counts, self.started = Counter(), time.monotonic()


class _Taker:
    """Takes one record after another in one session, as the connector's principal."""

    def __init__(self, session: AsyncSession, connector: Connector, run: SyncRun) -> None:
        self.session, self.connector, self.run = session, connector, run
        self.principal = principal_for(connector)
        self.publish = ConnectorConfig.from_json(connector.config).publish
        self.letters: dict[tuple[str, str], list[DeadLetter]] = {}
        self.rates = RateCache()
        trail(session, Trail(connector=connector.name, sync_run_id=run.id))

    async def load_open_letters(self) -> None:
        """The connector's open dead letters by record, so a record taken now resolves them."""
        letters = await self.session.scalars(
            select(DeadLetter).where(
                DeadLetter.connector_id == self.connector.id,
                DeadLetter.status == LetterStatus.OPEN,
            )
        )
        for letter in letters:
            key = (letter.source, letter.external_id or f"@{letter.place}")
            self.letters.setdefault(key, []).append(letter)

    async def take(self, record: Incoming) -> Taken:
        work = record.work
        if isinstance(work, Reject):
            return await self._reject(record, work.reason)
        if isinstance(work, Skip):
            taken = Taken.SKIPPED
        else:
            try:
                async with self.session.begin_nested():
                    taken = await self._write(record, work)
            except HubError as refused:
                where = f" ({'.'.join(refused.field)})" if refused.field else ""
                return await self._reject(record, f"{refused.code}{where}: {refused.message}")
            except (DBAPIError, ArithmeticError) as failed:  # the database's or a value's limit
                return await self._reject(record, f"UNSTORABLE: {_one_line(failed)}")
        for letter in self.letters.pop(self._key(record), []):
            resolve(letter, self.run)
        if record.letter_id is not None:
            retried = await self.session.get(DeadLetter, record.letter_id)
            if retried is not None and retried.status is LetterStatus.OPEN:
                resolve(retried, self.run)
        return taken

    async def _write(self, record: Incoming, work: PledgeRecord | UnclaimedRecord) -> Taken:
        if isinstance(work, UnclaimedRecord):
            assert record.external_id is not None  # an unclaimed record has its key
            kept = await keep_unclaimed(
                self.session,
                self.run,
                source=record.source,
                external_id=record.external_id,
                reporting_org=work.reporting_org,
                content_hash=work.content_hash,
                place=record.place,
                note=work.reason,
                payload=record.payload,
                linking=work.linking,
                principal=self.principal,
            )
            return Taken.UNCHANGED if kept is Applied.UNCHANGED else Taken.UNCLAIMED
        applied = await apply_pledge(
            self.session, self.principal, self.run, work, publish=self.publish, rates=self.rates
        )
        return {
            Applied.CREATED: Taken.CREATED,
            Applied.UPDATED: Taken.UPDATED,
            Applied.UNCHANGED: Taken.UNCHANGED,
        }[applied]

    def _key(self, record: Incoming) -> tuple[str, str]:
        return (record.source, record.external_id or f"@{record.place}")

    async def _reject(self, record: Incoming, reason: str) -> Taken:
        """A dead letter, unless the same one waits already (a re-import changes nothing);
        one record has one open letter, its newest version's; a letter taken again keeps
        waiting, with today's reason and one more attempt."""
        if record.letter_id is not None:
            retried = await self.session.get(DeadLetter, record.letter_id)
            if retried is not None:
                retried.reason, retried.attempts = reason, retried.attempts + 1
                retried.sync_run_id = self.run.id
                return Taken.REJECTED
        for letter in self.letters.get(self._key(record), []):
            if letter.reason == reason and letter.payload == record.payload:
                return Taken.REJECTED
        for older in self.letters.pop(self._key(record), []):
            resolve(older, self.run)  # an older version of the record: this letter supersedes it
        letter = dead_letter(
            self.session,
            self.run,
            source=record.source,
            external_id=record.external_id,
            place=record.place,
            reason=reason,
            payload=record.payload,
        )
        self.letters.setdefault(self._key(record), []).append(letter)
        return Taken.REJECTED
