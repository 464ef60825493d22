"""What importing IATI activity files costs: activities per second through the real
framework (``connectors.framework.sync`` over ``connectors.iati.importer.incoming``), the
first import and a re-import of the same bytes (every activity unchanged) reported apart,
beside the floors: lxml's ``iterparse`` alone over the same bytes, our parser alone, and
parse + map. On SQLite and on a fresh PostgreSQL database.

The input is the largest sample, tests/data/iati/CD.xml (205 DFID activities), repeated
with every ``iati-identifier`` (and the ``related-activity`` and ``*-activity-id`` refs that
name one) given a copy suffix, so that every copy is a new activity. Each import runs in a
child process, whose peak resident set (VmHWM) is its peak memory; progress goes to
stderr.

    .venv/bin/python bench/iati_import.py [--activities 10045] [--database sqlite|postgresql|both]
    .venv/bin/python bench/iati_import.py --profile 1000 --database sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import math
import os
import pstats
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import greenlet  # type: ignore[import-untyped]  # greenlet ships no type information
from ledger import drop, postgres_database, sqlite_database
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type information
from sqlalchemy import event
from sqlalchemy.engine import Engine

from connectors.framework import BATCH_SIZE, Stopped, digest_of, sync
from connectors.iati.importer import incoming, options_for
from connectors.iati.mapping import map_activity
from connectors.iati.outcomes import Options, Selection
from connectors.iati.parse import activities
from connectors.iati.records import ParsedActivity
from hub.countries.reference import read_reference
from hub.countries.service import load_reference
from hub.db import create_engine, create_session_factory
from hub.imports.connectors import ConnectorConfig, add_connector, get_connector
from hub.imports.models import ConnectorKind
from hub.imports.runs import COUNTS
from hub.migrate import upgrade_connection
from hub.money.rates import RateFormat, parse_rates
from hub.money.service import load_rates
from hub.organisations.models import OrganisationType
from hub.organisations.service import admit_member, create_organisation

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "iati" / "CD.xml"
RATES = (
    (ROOT / "data" / "fx" / "imf_exchangerates.csv", RateFormat.IMF),
    (ROOT / "data" / "fx" / "fred-monthly.csv", RateFormat.FRED),
)
REPORTER = "GB-1"
CONNECTOR = "bench-iati"
PROGRESS_EVERY = 15.0  # seconds between progress lines on stderr

ACTIVITY = re.compile(rb"<iati-activity[\s>].*?</iati-activity>", re.DOTALL)
IDENTIFIER = re.compile(rb"(<iati-identifier>\s*)([^<]*?)(\s*</iati-identifier>)")
REFERENCES = re.compile(
    rb"(<related-activity\b[^>]*?\sref=\"|\s(?:provider|receiver)-activity-id=\")([^\"]*)(\")"
)


# The input ---------------------------------------------------------------------------


def build_input(target: Path, count: int) -> tuple[int, int]:
    """Write ``count`` activities to ``target``: the sample's, again and again, each copy's
    identifiers suffixed with its number. Written one activity at a time. Returns the number
    of copies begun and the file's size."""
    sample = SAMPLE.read_bytes()
    found = list(ACTIVITY.finditer(sample))
    head, tail = sample[: found[0].start()], sample[found[-1].end() :]
    written = 0
    with target.open("wb") as out:
        out.write(head)
        for copy in range(math.ceil(count / len(found))):
            suffix = f"-C{copy + 1:04d}".encode()

            def renamed(match: re.Match[bytes], suffix: bytes = suffix) -> bytes:
                return match[1] + match[2] + suffix + match[3]

            for activity in found:
                if written == count:
                    break
                text = IDENTIFIER.sub(renamed, activity[0])
                out.write((b"\n  " if written else b"") + REFERENCES.sub(renamed, text))
                written += 1
        out.write(tail)
    return math.ceil(count / len(found)), target.stat().st_size


def sample_options() -> Options:
    """The options ``options_for`` reads for the bench's connector (checked against it)."""
    countries, _ = read_reference()
    return Options(
        member=frozenset({REPORTER}),
        selection=Selection(reporting_orgs=frozenset({REPORTER})),
        countries={row.alpha2: row.alpha3 for row in countries},
    )


# The floors: parsing and mapping, no database ------------------------------------------


def lxml_alone(stream: BinaryIO) -> int:
    """lxml's iterparse over the bytes, each activity cleared as parse.py does: the floor."""
    count = 0
    events = etree.iterparse(
        stream,
        events=("end",),
        tag="iati-activity",
        huge_tree=False,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    for _event, element in events:
        count += 1
        element.clear()
        parent = element.getparent()
        while element.getprevious() is not None:
            del parent[0]
    return count


def parser_alone(stream: BinaryIO) -> int:
    return sum(1 for parsed in activities(stream) if isinstance(parsed, ParsedActivity))


def parse_and_map(stream: BinaryIO, options: Options) -> int:
    count = 0
    for parsed in activities(stream):
        assert isinstance(parsed, ParsedActivity)
        map_activity(parsed, options)
        count += 1
    return count


def parse_map_and_record(stream: BinaryIO, options: Options) -> int:
    """What the framework is handed: ``incoming`` (parse, map, the hub's records, payload)."""
    return sum(1 for _ in incoming(stream, "bench.xml", options))


def timed_floor(path: Path, read: Callable[[BinaryIO], int]) -> tuple[float, int]:
    with path.open("rb") as stream:
        started = time.perf_counter()
        count = read(stream)
        return time.perf_counter() - started, count


# The database ------------------------------------------------------------------------


async def prepare(url: str) -> Options:
    """Migrate, load countries and exchange rates, admit DFID as a member and add its
    connector (selecting what GB-1 reports); returns the connector's options."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await upgrade_connection(connection)
            await connection.commit()
        sessions = create_session_factory(engine)
        async with sessions() as session:
            await load_reference(session, *read_reference())
            for path, rate_format in RATES:
                text = path.read_text(encoding="utf-8-sig")
                await load_rates(session, parse_rates(text, rate_format, path.name))
            member = await create_organisation(
                session,
                name="Department for International Development",
                organisation_type=OrganisationType.GOVERNMENT,
                iati_identifier=REPORTER,
            )
            await admit_member(session, member.id)
            connector = await add_connector(
                session,
                CONNECTOR,
                ConnectorKind.IATI_FILE,
                member.id,
                ConnectorConfig(reporting_orgs=(REPORTER,)),
            )
            options = await options_for(session, connector)
            await session.commit()
        return options
    finally:
        await engine.dispose()


async def import_file(
    url: str, path: Path, total: int, batch_size: int, label: str
) -> dict[str, Any]:
    """One ``p2c-hub import iati`` of ``path`` through the bench's connector, as the command
    does it (digest, then ``sync`` over ``incoming``), timed from the digest to the end."""
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        async with sessions() as session:
            connector = await get_connector(session, CONNECTOR)
            options = await options_for(session, connector)
        done, started, cpu = 0, time.perf_counter(), time.process_time()
        shown = started

        def moved(more: int) -> None:
            nonlocal done, shown
            done += more
            now = time.perf_counter()
            if now - shown >= PROGRESS_EVERY:
                shown, rate = now, done / (now - started)
                left = (total - done) / rate if rate else math.inf
                print(
                    f"  [{label}] {done:>6}/{total} activities, {rate:7.1f}/s, "
                    f"about {left / 60:.1f} min to go",
                    file=sys.stderr,
                    flush=True,
                )

        with path.open("rb") as stream:
            digest = digest_of(stream)
            try:
                run = await sync(
                    sessions,
                    connector,
                    str(path),
                    digest,
                    lambda resume: incoming(stream, path.name, options, resume.position),
                    moved,
                    batch_size=batch_size,
                )
            except Stopped as stopped:
                run = stopped.run
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "cpu_seconds": time.process_time() - cpu,
            "load": os.getloadavg()[0],
            "status": run.status.value,
            "error": run.error,
            **{name: getattr(run, name) for name in COUNTS},
        }
    finally:
        await engine.dispose()


def child_import(url: str, path: Path, total: int, batch_size: int, label: str) -> None:
    """In the child process: one import, then its figures as one JSON line on stdout."""
    before = memory("VmHWM")
    figures = asyncio.run(import_file(url, path, total, batch_size, label))
    peak = memory("VmHWM")
    print(json.dumps({**figures, "rss_before_kib": before, "rss_peak_kib": peak}))


def memory(field: str) -> int:
    """A figure of /proc/self/status in KiB: VmHWM is the peak resident set of this
    process's own memory (``ru_maxrss`` would count the parent's too, kept across fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def in_child(url: str, path: Path, total: int, batch_size: int, label: str) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        url,
        str(path),
        str(total),
        str(batch_size),
        label,
    ]
    done = subprocess.run(command, stdout=subprocess.PIPE, check=True, text=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh database's URL: a SQLite file, or a PostgreSQL database dropped after."""
    if kind == "sqlite":
        with sqlite_database() as url:
            yield url
        return
    name, url = asyncio.run(postgres_database())
    try:
        yield url
    finally:
        asyncio.run(drop(name))


# Reporting ---------------------------------------------------------------------------


def row(label: str, seconds: float, count: int, note: str = "") -> None:
    print(f"  {label:<44}{seconds:9.2f} s {count / seconds:10.1f}/s  {note}".rstrip(), flush=True)


def counted(figures: dict[str, Any]) -> str:
    said = ", ".join(f"{name} {figures[name]}" for name in COUNTS[1:] if figures[name])
    failed = f"; {figures['status']}: {figures['error']}" if figures["error"] else ""
    cpu = figures["cpu_seconds"] / figures["seconds"]
    load = f", load {figures['load']:.1f}" if "load" in figures else ""
    return f"({said}{failed}; CPU {figures['cpu_seconds']:.0f} s, {cpu:.0%} of the time{load})"


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def measure(kinds: list[str], count: int, batch_size: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench-iati.xml"
        copies, size = build_input(path, count)
        print(
            f"{count} activities: {SAMPLE.name} ({SAMPLE.stat().st_size / 1e6:.1f} MB) in "
            f"{copies} renamed copies, {size / 1e6:.1f} MB; batch size {batch_size}"
        )
        print(f"  {'':<44}{'time':>11} {'activities':>12}  (load average {os.getloadavg()[0]:.1f})")
        options = sample_options()
        timed_floor(path, lxml_alone)  # warm the page cache
        floors: list[tuple[str, Callable[[BinaryIO], int]]] = [
            ("lxml iterparse alone (the floor)", lxml_alone),
            ("connectors.iati.parse.activities", parser_alone),
            ("  + map_activity", lambda s: parse_and_map(s, options)),
            ("  + record_of (importer.incoming)", lambda s: parse_map_and_record(s, options)),
        ]
        for label, read in floors:
            seconds, read_count = timed_floor(path, read)
            assert read_count == count, f"{label}: {read_count} activities, not {count}"
            row(label, seconds, count)
        for kind in kinds:
            name = "SQLite" if kind == "sqlite" else "PostgreSQL"
            with database(kind) as url:
                assert asyncio.run(prepare(url)) == options
                first = in_child(url, path, count, batch_size, f"{name} first import")
                row(f"{name}: first import", first["seconds"], count, counted(first))
                again = in_child(url, path, count, batch_size, f"{name} re-import")
                row(f"{name}: re-import, all unchanged", again["seconds"], count, counted(again))
                print(
                    f"  {name} peak memory (VmHWM, peak resident set of the importing "
                    f"process): first import {mib(first['rss_peak_kib'])} "
                    f"({mib(first['rss_before_kib'])} before it began), "
                    f"re-import {mib(again['rss_peak_kib'])}",
                    flush=True,
                )


class Census:
    """Every statement sent to the database, by kind ("SELECT source_records", "SAVEPOINT")
    with the wall time from sending it to its answer (the thread hop of aiosqlite, or the
    round trip to PostgreSQL, included), and by the code of hub/ and connectors/ that sent
    it (found through the greenlet that SQLAlchemy's async layer switched from)."""

    VERB = re.compile(
        r"\s*(SELECT|INSERT INTO|UPDATE|DELETE FROM|SAVEPOINT|RELEASE SAVEPOINT|"
        r"ROLLBACK TO SAVEPOINT|BEGIN|COMMIT|ROLLBACK)\b",
        re.IGNORECASE,
    )
    TABLE = re.compile(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)|\bFROM\s+\"?(\w+)", re.I)
    OURS = (f"{ROOT}/hub/", f"{ROOT}/connectors/")

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()
        self.seconds: dict[str, float] = {}
        self.callers: Counter[str] = Counter()
        self.started: list[float] = []

    def kind(self, statement: str) -> str:
        if "pg_notify" in statement:
            return "SELECT pg_notify (live announcements)"
        verb = self.VERB.match(statement)
        if verb is None:
            return statement.split(None, 1)[0].upper() if statement.strip() else "?"
        said = verb[1].upper()
        if "SAVEPOINT" in said or said in ("BEGIN", "COMMIT", "ROLLBACK"):
            return said
        table = self.TABLE.search(statement)
        return f"{said.split()[0]} {(table[1] or table[2]) if table else '?'}"

    def caller(self) -> str:
        """The innermost three frames of hub/ and connectors/ awaiting this statement."""
        current = greenlet.getcurrent()
        frame = current.parent.gr_frame if current.parent is not None else sys._getframe(1)
        chain: list[str] = []
        while frame is not None and len(chain) < 3:
            where = frame.f_code.co_filename
            if where.startswith(self.OURS):
                chain.append(f"{where.removeprefix(f'{ROOT}/')}:{frame.f_code.co_name}")
            frame = frame.f_back
        return " < ".join(chain) or "?"

    def before(self, *_: Any) -> None:
        self.callers[self.caller()] += 1
        self.started.append(time.perf_counter())

    def after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        kind = self.kind(statement)
        self.count[kind] += 1
        self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - self.started.pop()

    @contextlib.contextmanager
    def listening(self) -> Iterator[Census]:
        event.listen(Engine, "before_cursor_execute", self.before)
        event.listen(Engine, "after_cursor_execute", self.after)
        try:
            yield self
        finally:
            event.remove(Engine, "before_cursor_execute", self.before)
            event.remove(Engine, "after_cursor_execute", self.after)

    def report(self, activities: int, wall: float, top: int) -> None:
        total, spent = sum(self.count.values()), sum(self.seconds.values())
        print(
            f"--- {total} statements, {total / activities:.1f} per activity; "
            f"{spent:.1f} s of the {wall:.1f} s waiting for their answers ({spent / wall:.0%})"
        )
        print(f"    {'statement':<40}{'per activity':>13}{'ms each':>9}{'share of wall':>15}")
        for kind, count in self.count.most_common(top):
            seconds = self.seconds[kind]
            print(
                f"    {kind:<40}{count / activities:13.2f}{seconds / count * 1000:9.3f}"
                f"{seconds / wall:15.1%}"
            )
        print("--- statements per activity by who sent them (innermost first)")
        for caller, count in self.callers.most_common(top):
            print(f"    {count / activities:6.2f}  {caller}")


def profile(kind: str, count: int, batch_size: int, top: int) -> None:
    """Where an import's time goes: first the statements it sends (counted and timed, no
    profiler), then, on a fresh database, cProfile's costliest entries of hub/ and
    connectors/ by cumulative time, and of everything by own time."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench-iati.xml"
        build_input(path, count)
        print(f"{count} activities, {kind}, batch size {batch_size}")
        with database(kind) as url:
            asyncio.run(prepare(url))
            for label in ("first import", "re-import"):
                with Census().listening() as census:
                    figures = asyncio.run(import_file(url, path, count, batch_size, label))
                print(
                    f"\n=== {label}: {figures['seconds']:.1f} s, "
                    f"{count / figures['seconds']:.1f} activities/s {counted(figures)}"
                )
                census.report(count, figures["seconds"], top)
        with database(kind) as url:
            asyncio.run(prepare(url))
            for label in ("first import", "re-import"):
                profiler = cProfile.Profile()
                profiler.enable()
                figures = asyncio.run(import_file(url, path, count, batch_size, label))
                profiler.disable()
                print(f"\n=== {label} under cProfile: {figures['seconds']:.1f} s")
                out = io.StringIO()
                stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
                stats.print_stats(r"/(hub|connectors)/", top)
                print(f"--- top {top} by cumulative time in hub/ and connectors/")
                print(_entries(out.getvalue()))
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(
                    top
                )
                print(f"--- top {top} by own time, everything")
                print(_entries(out.getvalue()))
                print("--- own time by where the code lives")
                print(_by_package(pstats.Stats(profiler), top))


def _by_package(stats: pstats.Stats, top: int) -> str:
    """Own time summed by package (site-packages), by module of hub/ and connectors/, by
    the standard library's package, and by built-in function."""
    spent: Counter[str] = Counter()
    for (file, _line, function), (_, _, own, *_) in stats.stats.items():  # type: ignore[attr-defined]
        if file == "~":
            where = f"built-in {function}"
        elif "site-packages/" in file:
            where = file.split("site-packages/", 1)[1].split("/", 1)[0]
        elif file.startswith(f"{ROOT}/"):
            where = file.removeprefix(f"{ROOT}/").removesuffix(".py")
        else:
            where = "stdlib " + file.split("/lib/python3.11/", 1)[-1].split("/", 1)[0]
        spent[where] += own
    total = sum(spent.values())
    return "\n".join(
        f"    {seconds:8.2f} s {seconds / total:6.1%}  {where}"
        for where, seconds in spent.most_common(top)
    )


def _entries(printed: str) -> str:
    """pstats' table without its preamble, paths made relative to the repository."""
    table = printed[printed.index("   ncalls") :].rstrip()
    return table.replace(f"{ROOT}/", "").replace(f"{sys.prefix}/lib/python3.11/site-packages/", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--activities", type=int, default=49 * 205)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument(
        "--profile", type=int, metavar="N", help="profile importing N activities instead"
    )
    parser.add_argument("--top", type=int, default=15, help="entries the profile lists")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        url, path, total, batch_size, label = arguments.child
        child_import(url, Path(path), int(total), int(batch_size), label)
        return
    kinds = ["sqlite", "postgresql"] if arguments.database == "both" else [arguments.database]
    if arguments.profile:
        profile(kinds[0], arguments.profile, arguments.batch_size, arguments.top)
        return
    measure(kinds, arguments.activities, arguments.batch_size)


if __name__ == "__main__":
    main()
