"""What every connector's run does with the records its source yields.

A source yields :class:`Incoming` records in a stable order, each saying what to do with it
(:data:`Work`). The run takes them in batches: each batch commits in one transaction
together with the run's marker and counts (``hub.imports.runs.advance``), and each record is
written in a savepoint of its own, so that one the hub refuses becomes a dead letter
without undoing its neighbours. A run killed at any moment leaves whole batches only; run
again over the same bytes it resumes after the marker, and records already written are
found by ``(source, external_id)`` and their content hash, so nothing is lost or doubled.
"""

from __future__ import annotations

import enum
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable
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
from hub.imports.models import Connector, DeadLetter, LetterStatus, SyncRun
from hub.imports.records import PledgeRecord
from hub.imports.runs import (
    Resume,
    advance,
    close_unreadable,
    dead_letter,
    finish,
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
    records: Callable[[Resume], Iterable[Incoming]],
    progress: Progress = lambda _: None,
    *,
    batch_size: int = BATCH_SIZE,
) -> SyncRun:
    """Run ``connector`` over ``records(resume)``, which yields what comes after the marker.

    The run ends SUCCEEDED (rejected records are dead letters, not failures), or FAILED with
    the error when reading or writing stopped it: what earlier batches wrote stays, and
    :class:`Stopped` is raised after the run says so.
    """
    async with sessions() as session:
        run, resume = await start_run(session, connector, source, digest)
        await session.commit()
    try:
        async with sessions() as session:
            await _take_all(session, connector, run, records(resume), progress, batch_size)
            await close_unreadable(session, run)
            finish(run)
            session.add(run)
            await session.commit()
    except Exception as error:
        reason = _one_line(error)
        async with sessions() as session:
            failed = await session.get(SyncRun, run.id, populate_existing=True)
            assert failed is not None  # committed when the run started
            finish(failed, reason)
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


async def _take_all(
    session: AsyncSession,
    connector: Connector,
    run: SyncRun,
    incoming: Iterable[Incoming],
    progress: Progress,
    batch_size: int,
) -> None:
    taker = _Taker(session, connector, run)
    await taker.load_open_letters()
    counts: Counter[str] = Counter()
    last, started = run.position, time.monotonic()
    for record in incoming:
        counts["fetched"] += 1
        counts[await taker.take(record)] += 1
        last = record.position
        if isinstance(record.work, Reject) and record.work.ends_run:
            await _commit(session, run, last, counts)
            progress(counts["fetched"])
            raise _Unreadable(record.work.reason)
        if counts["fetched"] >= batch_size or time.monotonic() - started > BATCH_SECONDS:
            await _commit(session, run, last, counts)
            progress(counts["fetched"])
            counts, started = Counter(), time.monotonic()
    await _commit(session, run, last, counts)
    progress(counts["fetched"])


async def _commit(session: AsyncSession, run: SyncRun, position: int, counts: Counter[str]) -> None:
    session.add(run)
    advance(run, position, counts)
    await session.commit()


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
