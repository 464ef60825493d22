"""Probes of a second adversarial review of the audit tree heads, kept as regression tests:
each docstring tells the defect the probe found (all fixed since). The ``Ledger`` of
tests/test_audit_heads.py (13 events, heads of 8 and 13 leaves delivered to a kept file) is
the starting point of most."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hub.audit import sequencer
from hub.audit.delivery import DeliveryFailed, FileTarget, deliver_pending
from hub.audit.heads import sign_head
from hub.audit.ledger import record_change
from hub.audit.models import TreeHead
from hub.audit.notes import NoteError
from hub.audit.verify import Kept, kept_heads, verify
from hub.auth.principal import CONSOLE
from hub.errors import HubError
from hub.keys.service import ensure_audit_key
from hub.keys.vault import Vault
from hub.types import utcnow
from tests.fixtures.partners import Partners
from tests.hub.test_audit import sequenced
from tests.hub.test_audit_tree import write_events
from tests.schema.test_audit_queries import auditing, errors_of, invited
from tests.test_audit_heads import APPEND_ONLY, NAME, Ledger, ledger
from tests.test_audit_heads_review import (
    exported,
    invoke,
    rewrite,
    sequenced_by_an_older_release,
    tool,
)

__all__ = ["auditing", "ledger"]  # fixtures, imported to be used here

Sessions = async_sessionmaker[AsyncSession]


@asynccontextmanager
async def administrator(engine: AsyncEngine, sessions: Sessions) -> AsyncIterator[AsyncSession]:
    """A session with the append-only triggers out of the way, as a database owner could."""
    async with sessions() as session:
        if engine.dialect.name == "postgresql":
            await session.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for table in APPEND_ONLY:
                for operation in ("update", "delete"):
                    await session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{operation}"))
        yield session
        await session.commit()


async def edit_changes(ledger: Ledger, leaf: int, changes: str) -> None:
    """Write ``changes`` as the text of the event of ``leaf``."""
    async with ledger.administrator() as session:
        await session.execute(
            text(
                "UPDATE audit_events SET changes = :changes "
                "WHERE id = (SELECT event_id FROM audit_leaves WHERE leaf_number = :leaf)"
            ),
            {"changes": changes, "leaf": leaf},
        )


# ------------------------------------------------------------------------------------------
# An event the canonical form cannot hold (the fix of e29cd46, ``_changes``)


async def test_an_event_edited_to_hold_a_huge_exponent_is_named_not_a_crash(
    ledger: Ledger,
) -> None:
    """e29cd46 reads an event's changes with ``parse_float=Decimal`` so that an edited float is
    named instead of crashing; but ``plain`` then calls ``Decimal.normalize()``, which traps
    ``decimal.Overflow`` (an ``ArithmeticError``, caught by nobody) for an exponent beyond the
    default context's Emax, such as ``1e1000000``. One such edit, and ``audit verify`` dies
    with a traceback, ``audit export`` cannot write any export, and (for an event not yet
    sequenced) the sequencer fails on every run, so the log stops for good: the very outcome
    the fix meant to end. (``1e999999`` passes, but turns into a string of a million digits:
    a few hundred of them in one event exhaust the verifier's memory.)"""
    await edit_changes(ledger, 2, '{"n":{"after":1e1000000,"before":null}}')
    crashes = []
    async with ledger.sessions() as session:  # an event not in the log yet, edited alike
        record_change(session, CONSOLE, "test.step", "Step", "13", {"n": {"after": 13}})
        await session.commit()
    async with ledger.administrator() as session:
        await session.execute(
            text(
                "UPDATE audit_events SET changes = :c WHERE id = (SELECT max(id) FROM audit_events)"
            ),
            {"c": '{"n":{"after":1e1000000}}'},
        )
    try:
        await sequencer.sequence_all(ledger.sessions)
    except ArithmeticError as error:
        crashes.append(f"the sequencer fails on every run, the log stops: {error!r}")
    try:
        async with ledger.sessions() as session:
            problem = (await verify(session)).problem
        assert problem is not None
        assert "leaf 2" in problem, problem
    except ArithmeticError as error:
        crashes.append(f"audit verify crashed instead of naming leaf 2: {error!r}")
    try:
        await exported(ledger, "after-edit.jsonl")
    except ArithmeticError as error:
        crashes.append(f"the export crashed, so no auditor can check the log: {error!r}")
    assert not crashes, crashes


# ------------------------------------------------------------------------------------------
# The leaves of kept exports (verify, e29cd46)


async def test_two_kept_exports_that_disagree_on_a_leaf_are_not_taken_as_agreeing(
    ledger: Ledger,
) -> None:
    """``Kept.leaves`` is a dict keyed by leaf number: when two ``--kept`` exports hold
    different leaves at the same number (the log was rewritten between them, beyond the newest
    head), the later file's leaf silently replaces the earlier one's. Checked against the
    earlier export alone, ``audit verify`` names the rewritten leaf; given both (as an auditor
    who keeps every export passes them), it says the log holds, because the database matches
    the later export. tools/verify_audit.py checks each kept file on its own and fails."""
    await ledger.events(2, 13)  # leaves 13 and 14, under no head yet
    earlier = await exported(ledger, "earlier.jsonl")
    await rewrite(ledger, 14, "test.rewritten")
    later = await exported(ledger, "later.jsonl")

    def kept(*files: Path) -> Kept:
        found = Kept()
        for path in files:
            with path.open(encoding="utf-8", newline="\n") as lines:
                kept_heads(lines, str(path), into=found)
        return found

    async with ledger.sessions() as session:
        alone = (await verify(session, kept(earlier))).problem
    assert alone is not None
    assert "leaf 14" in alone, alone
    async with ledger.sessions() as session:
        both = (await verify(session, kept(earlier, later))).problem
    assert both is not None, "two kept exports that disagree on leaf 14 were taken as agreeing"


# ------------------------------------------------------------------------------------------
# The file target's cut of an unfinished line (delivery, e29cd46)


class Racing:
    """The head file as another deliverer (``p2c-hub audit head`` at the console, beside
    ``serve``) sees it: between this one's ``tell`` and ``read``, half of its own line is
    already on disk."""

    def __init__(self, real: IO[bytes], path: Path, half: bytes) -> None:
        self.real, self.path, self.half = real, path, half

    def __enter__(self) -> Racing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()

    def read(self, *args: Any) -> bytes:
        with self.path.open("ab") as other:  # the other deliverer, mid-write
            other.write(self.half)
        return self.real.read(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


async def test_the_cut_of_an_unfinished_line_never_reaches_a_delivered_head(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``FileTarget._append`` cuts at ``end - len(tail) + tail.rfind(b"\\n") + 1``, with
    ``end`` taken before ``read``: when the file grew in between (a second deliverer, such as
    ``p2c-hub audit head`` run while ``serve`` delivers, is half-way through its line), the
    cut lands ``len(growth)`` bytes before the last newline, inside the last complete,
    delivered head. There is no lock either: the docs promise each delivered head stays
    in the file, and that is the one thing auditors rely on."""
    before = ledger.heads.read_bytes()
    await ledger.events(1, 13)
    async with ledger.sessions() as session:
        assert await sign_head(session, ledger.vault, utcnow()) is not None
        await session.commit()
    real_open = Path.open

    def racing_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        if self == ledger.heads and mode == "ab+":
            return Racing(handle, self, b'{"type": "head", "note": "p2c-hub/au')
        return handle

    monkeypatch.setattr(Path, "open", racing_open)
    await deliver_pending(ledger.sessions, [FileTarget(ledger.heads)])
    monkeypatch.setattr(Path, "open", real_open)
    after = ledger.heads.read_bytes()
    assert after.startswith(before), "a head delivered before was cut short"


async def test_a_head_file_that_is_a_pipe_still_takes_heads(ledger: Ledger) -> None:
    """Before e29cd46 the file target opened with ``"ab"``; it now opens with ``"ab+"`` and
    seeks and reads to find an unfinished line. A target that cannot seek (a named pipe to a
    log shipper, ``/dev/stdout`` of a container) now fails every delivery with ``ESPIPE``
    ("Illegal seek"), and so would a file the hub may append to but not read (mode 0220):
    heads stop leaving the hub after an upgrade, with a warning per turn."""
    reader, writer = os.pipe()
    os.set_blocking(reader, False)
    try:
        target = FileTarget(Path(f"/proc/self/fd/{writer}"))
        try:
            await target.deliver(b'{"type": "head", "note": "x"}\n')
        except DeliveryFailed as error:
            pytest.fail(f"a pipe no longer takes heads: {error}")
        assert os.read(reader, 1000) == b'{"type": "head", "note": "x"}\n'
    finally:
        os.close(reader)
        os.close(writer)


# ------------------------------------------------------------------------------------------
# The sequencer's repair of missing subtrees (frontier, e29cd46)


async def test_subtrees_missing_after_a_rolling_deploy_do_not_raise_a_tampering_alarm(
    session_factory: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``frontier`` adds the subtrees a hub of the release before left out, but only when
    events are waiting (``sequence`` asks for ``frontier(session, 0)`` otherwise). Until the
    next event arrives, which on a quiet hub may be hours, ``sign_head`` raises
    TREE_INCOMPLETE on every turn (``serve`` logs ``audit.head_refused`` at error level, the
    event docs/audit.md says to alert on as tampering), ``p2c-hub audit head`` fails even
    though it sequences first, and ``audit verify`` reports subtrees removed: a false alarm
    after an ordinary rolling deploy, and nothing an operator can run mends it."""
    vault = Vault([Fernet.generate_key().decode()])
    async with session_factory() as session:
        await ensure_audit_key(session, vault, utcnow() - timedelta(seconds=1), NAME)
        await session.commit()
    await write_events(session_factory, 3)
    await sequenced(session_factory)
    await sequenced_by_an_older_release(session_factory, monkeypatch, 2)
    # the new release takes over; no event comes for a while
    await sequencer.sequence_all(session_factory)  # what p2c-hub audit head does first
    try:
        async with session_factory() as session:
            head = await sign_head(session, vault, utcnow())
            await session.commit()
    except HubError as error:
        pytest.fail(f"{error.code}: {error.message}")
    assert head is not None
    assert head.tree_size == 5


# ------------------------------------------------------------------------------------------
# The signer's check of the newest head (LOG_NOT_EXTENDED, e29cd46)


async def test_an_unreadable_newest_head_is_refused_as_loudly_as_a_shrunken_log(
    ledger: Ledger,
) -> None:
    """``_extends`` reads the newest head's note with ``read``, whose ``NoteError`` is a
    ``ValueError``, not a ``HubError``: ``heads.run`` logs it as ``audit.head_failed`` at
    warning level ("the database is away"), not as ``audit.head_refused`` at error level. A
    role that may only INSERT into ``audit_tree_heads`` (the append-only triggers do not stop
    it) adds one row with a junk note, and the hub never signs a head again, without the
    alarm docs/audit.md tells operators to watch."""
    async with ledger.sessions() as session:
        session.add(
            TreeHead(
                tree_size=13,
                root_hash="00" * 32,
                signed_at=utcnow().replace(microsecond=0),
                key_id="junk",
                note="junk",
            )
        )
        await session.commit()
    await ledger.events(1, 13)
    try:
        async with ledger.sessions() as session:
            await sign_head(session, ledger.vault, utcnow())
            await session.commit()
    except HubError:
        return  # refused, loudly: what is due
    except NoteError as error:
        pytest.fail(f"refused with a NoteError, logged as a passing failure: {error}")
    pytest.fail("signed a head after a newest head that is not one")


# ------------------------------------------------------------------------------------------
# Auditors' GraphQL


async def test_tree_head_names_an_unreadable_head_instead_of_an_internal_error(
    auditing: Partners, engine: AsyncEngine, session_factory: Sessions
) -> None:
    """``TreeHead.from_model`` reads the note with ``read``; a newest head whose note is not
    a signed note (a row inserted into ``audit_tree_heads``) makes ``treeHead`` fail with
    INTERNAL_ERROR and a logged traceback: the auditor learns nothing of what is there, where
    the field could return the note as stored (it is for the auditor to check) or an error
    with a code saying the head is not one."""
    async with session_factory() as session:
        session.add(
            TreeHead(
                tree_size=0,
                root_hash="00" * 32,
                signed_at=utcnow().replace(microsecond=0),
                key_id="junk",
                note="junk",
            )
        )
        await session.commit()
    body = await auditing.gql("auditor", "{ treeHead { treeSize note } }")
    codes = [code for code, _ in errors_of(body)] if body.get("errors") else []
    assert "INTERNAL_ERROR" not in codes, body


async def test_the_trail_shows_an_event_whose_changes_hold_a_float(
    auditing: Partners, engine: AsyncEngine, session_factory: Sessions
) -> None:
    """e29cd46 makes ``document`` read changes with ``parse_float=Decimal``; ``auditTrail``
    passes ``document(event)["changes"]`` to the JSON scalar as it is, Decimals included, so an
    event edited to hold ``1.5`` breaks the whole page of the trail (the response cannot be
    written as JSON): the auditor cannot see the very event ``audit verify`` names."""
    await invited(auditing)
    async with administrator(engine, session_factory) as session:
        await session.execute(
            text("UPDATE audit_events SET changes = :c WHERE id = 1"),
            {"c": '{"title":{"after":1.5,"before":null}}'},
        )
    query = "{ auditTrail(first: 5) { edges { node { eventId changes canonicalForm } } } }"
    response = await auditing.post("auditor", query, {})
    assert response.status_code == 200, response.text[:300]
    body = response.json()
    assert "errors" not in body, body["errors"]


async def test_the_endorsement_trail_shows_steps_after_a_pledge_event_was_broken(
    auditing: Partners, engine: AsyncEngine, session_factory: Sessions
) -> None:
    """``_steps`` rebuilds the terms with ``json.loads`` of each pledge event's changes: one
    pledge event whose changes are no longer JSON (the case e29cd46 made ``verify`` and the
    export name) makes ``endorsementTrail`` and ``node(id:)`` of every step of that pledge
    fail with INTERNAL_ERROR, instead of showing the steps with what the ledger holds."""
    story = await invited(auditing)
    async with administrator(engine, session_factory) as session:
        await session.execute(
            text("UPDATE audit_events SET changes = 'not json' WHERE id = 1"),
        )
    query = "query($p: ID) { endorsementTrail(pledgeId: $p, first: 5) { totalCount } }"
    body = await auditing.gql("auditor", query, p=story.pledge["id"])
    codes = [code for code, _ in errors_of(body)] if body.get("errors") else []
    assert "INTERNAL_ERROR" not in codes, body


# ------------------------------------------------------------------------------------------
# The command line


async def test_an_export_onto_a_full_disk_does_not_blame_the_database(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """e29cd46 checks that the export's directory exists, but every other ``OSError`` of
    writing the file (a full disk, a read-only mount, a directory without write permission)
    still goes through ``_with_database`` and is reported as "database <url>: [Errno 28] No
    space left on device": the operator is sent to the database."""
    real_open = Path.open

    class Full:
        def __init__(self, real: IO[bytes]) -> None:
            self.real = real

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.real.close()

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    def full_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        return Full(handle) if self.name.endswith(".partial") and "w" in mode else handle

    monkeypatch.setattr(Path, "open", full_open)
    target = ledger.directory / "export.jsonl"
    done = await invoke(database_url, "audit", "export", "--to", str(target))
    monkeypatch.setattr(Path, "open", real_open)
    assert done.exit_code == 1, done.output
    assert "database" not in done.output, done.output


async def test_an_export_whose_partial_file_is_a_directory_fails_in_one_line(
    ledger: Ledger, database_url: str
) -> None:
    """When ``.NAME.partial`` beside the target cannot be opened as a file (a directory left
    there, say), the ``finally`` of ``audit export`` calls ``partial.unlink``, which raises
    ``IsADirectoryError`` over the ClickException: a traceback instead of a one-line error."""
    target = ledger.directory / "export.jsonl"
    (ledger.directory / ".export.jsonl.partial").mkdir()
    done = await invoke(database_url, "audit", "export", "--to", str(target))
    assert isinstance(done.exception, SystemExit), repr(done.exception)


# ------------------------------------------------------------------------------------------
# docs/audit.md as a contract


def cosigned(note: str) -> str:
    """``note`` with a witness's cosignature line added (a C2SP tlog-cosignature: a 4-byte
    key id, an 8-byte timestamp and a 64-byte signature)."""
    raw = bytes(4) + (1_700_000_000).to_bytes(8, "big") + bytes(64)
    return note + f"\u2014 witness.example.org/w1 {base64.b64encode(raw).decode()}\n"


async def test_kept_heads_cosigned_by_a_witness_are_read_by_both_verifiers(
    ledger: Ledger,
) -> None:
    """C2SP signed notes (which docs/audit.md says a head is) may carry other signatures,
    which verifiers ignore; witnesses cosign checkpoints this way, and an auditor's kept
    heads may come back cosigned. tools/verify_audit.py ignores such a line, but the hub's
    ``read`` refuses any signature that is not 68 bytes (or whose name is longer than 50),
    so ``audit verify`` calls the kept head "not a signed tree head" and fails: the two
    verifiers disagree on the same kept file."""
    lines = ledger.heads.read_text(encoding="utf-8").splitlines()
    kept = ledger.directory / "cosigned.jsonl"
    notes = [json.loads(line)["note"] for line in lines]
    kept.write_text(
        "".join(json.dumps({"type": "head", "note": cosigned(n)}) + "\n" for n in notes)
    )
    export_file = await exported(ledger, "export.jsonl")
    checked = await tool(export_file, await ledger.vkey(), kept)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    async with ledger.sessions() as session:
        problem = (await verify(session, kept_heads(kept.read_text().split("\n"), "k"))).problem
    assert problem is None, problem


def test_audit_verify_reads_a_kept_leaf_numbered_as_json_true() -> None:
    """``kept_heads`` takes an event line's ``leaf`` when ``isinstance(leaf, int)``, which
    ``True`` is: ``{"type": "event", "leaf": true, ...}`` is kept as leaf 1 (and a negative
    leaf is kept and never compared). tools/verify_audit.py refuses both (exit 2)."""
    line = {"type": "event", "leaf": True, "event_id": 2, "leaf_hash": "00" * 32, "event": {}}
    with pytest.raises(ValueError, match="line 1"):
        kept_heads([json.dumps(line)], "kept.jsonl")


async def test_the_readme_key_file_still_verifies_after_a_key_rotation(
    ledger: Ledger, database_url: str
) -> None:
    """The README's auditor session runs ``p2c-hub audit public-key > hub.vkey`` and then
    ``verify_audit.py ... --key @hub.vkey``. After ``p2c-hub audit rotate-key`` the command
    prints every audit key, one per line (as it should: old heads need the old key), but the
    verifier reads ``@PATH`` as one key: the whole file, stripped, is "malformed key" (exit
    2). The documented session breaks at the first rotation, in front of the auditor."""
    fresh = Fernet.generate_key().decode()
    settings = {"key_encryption_keys": fresh}
    rotated = await invoke(database_url, "audit", "rotate-key", **settings)
    assert rotated.exit_code == 0, rotated.output
    await ledger.events(2, 13)
    signed = await invoke(database_url, "audit", "head", **settings)
    assert signed.exit_code == 0, signed.output
    printed = await invoke(database_url, "audit", "public-key")
    assert printed.exit_code == 0, printed.output
    assert len(printed.output.splitlines()) == 2, printed.output
    vkey = ledger.directory / "hub.vkey"
    vkey.write_text(printed.output)
    export_file = await exported(ledger, "audit-1.jsonl")
    checked = await tool(export_file, f"@{vkey}", ledger.heads)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_a_heads_file_with_the_unfinished_line_the_docs_describe_is_read(
    ledger: Ledger, database_url: str
) -> None:
    """docs/audit.md says a failed append can leave an unfinished line in the heads file,
    never counted as delivered, which the next append cuts off. Until that next append (the
    log must grow first), both verifiers refuse the file outright: ``audit verify`` (which
    reads ``HUB_AUDIT_HEADS_FILE`` by itself) exits 2 with "line 3 of ... is not JSON", and so
    does tools/verify_audit.py; a last line without its LF is by the docs' own account not a
    head, and could be passed over (and named) instead."""
    with ledger.heads.open("ab") as out:
        out.write(b'{"type": "head", "note": "p2c-hub/audit\\n15\\n')
    done = await invoke(database_url, "audit", "verify", audit_heads_file=str(ledger.heads))
    assert done.exit_code == 0, done.output


async def test_a_heads_file_setting_that_names_a_directory_is_not_blamed_on_kept(
    ledger: Ledger, database_url: str
) -> None:
    """With no ``--kept`` given, ``HUB_AUDIT_HEADS_FILE`` naming a directory (or a file the
    command cannot read) makes ``audit verify`` say "Invalid value for --kept: [Errno 21] Is a
    directory": the operator looks for an option they never gave, not at the setting."""
    done = await invoke(database_url, "audit", "verify", audit_heads_file=str(ledger.directory))
    assert done.exit_code == 2, done.output
    assert "HUB_AUDIT_HEADS_FILE" in done.output, done.output


async def test_sigusr1_while_serve_stops_does_not_kill_it(database_url: str) -> None:
    """``serve`` installs its SIGUSR1 handler in the app's lifespan, after the imports and
    the database checks, and ``remove_signal_handler`` puts back the default action at
    shutdown: a ``kill -USR1`` (a cron job or a systemd timer asking for a head) that lands
    while the hub stops terminates it on the spot ("User defined signal 1"), in the middle of
    a shutdown that means to finish the sequencer's run. (While the interpreter itself starts,
    before the hub's code runs, no process can refuse it.)"""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HUB_DATABASE_URL": database_url, "HUB_PORT": str(port)}
    env["HUB_KEY_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    command = [str(Path(sys.executable).parent / "p2c-hub"), "serve"]
    process = await asyncio.to_thread(
        subprocess.Popen, command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}/readyz"
        async with httpx.AsyncClient() as client, asyncio.timeout(20):
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(base)).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        for _ in range(20):  # as it stops
            process.send_signal(signal.SIGUSR1)
            await asyncio.sleep(0.02)
        await asyncio.to_thread(process.wait, timeout=20)
        # uvicorn stops gracefully on SIGTERM, then ends by it: -15, never -10 (SIGUSR1)
        assert process.returncode in (0, -signal.SIGTERM), f"ended with {process.returncode}"
    finally:
        if process.poll() is None:
            process.terminate()
        await asyncio.to_thread(process.communicate, timeout=20)
