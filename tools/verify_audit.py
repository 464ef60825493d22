#!/usr/bin/env python3
"""Verify an export of the P2C Hub's audit ledger without trusting the hub.

This file is written from ``docs/audit.md`` (and the README's "The audit ledger") alone. It
needs the Python standard library (3.11 or later) and the ``cryptography`` package, and imports
nothing from the hub, so an auditor can read it in full and run it on a machine of their own.

Usage::

    python tools/verify_audit.py EXPORT --key VKEY [--key VKEY ...] [--kept FILE ...]

``EXPORT``
    The file written by ``p2c-hub audit export --to FILE``: JSON lines, a ``log`` line first,
    then one ``event`` line per leaf of the log, then one ``head`` line per signed tree head.

``--key VKEY``
    A C2SP verifier key for the heads, ``name+keyid+base64(0x01 || Ed25519 public key)``, as
    ``p2c-hub audit public-key`` prints it and the coalition publishes it. ``--key @PATH`` reads
    the keys in a file, one a line. Give every key (for instance the old and the new key around
    a rotation); a head must carry a valid signature by one of them.

``--kept FILE``
    Heads you kept from earlier: an export target file (``{"type": "head", "note": ...}``
    lines, as the hub appended them to ``HUB_AUDIT_HEADS_FILE`` or posted them to
    ``HUB_AUDIT_HEADS_URL``) or an earlier export. May be given several times, and takes one or
    more files.

What is checked, in this order (docs/audit.md, "What an auditor checks"):

1. The ``log`` line comes first and names the format ``p2c-hub-audit-export/1``.
2. Every event line: leaves are numbered from 0 without gaps, and each ``leaf_hash`` equals
   SHA-256(0x00 || canonical bytes of its ``event``), the canonical bytes being
   ``json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` in UTF-8.
   The ``log`` line's ``tree_size`` equals the number of event lines.
3. Every head in the export: a C2SP signed note whose text is exactly four lines (origin, tree
   size in decimal without leading zeros, base64 of the 32-byte root, ``time`` and an RFC 3339
   UTC second ending in ``Z``), followed by an empty line and signature lines ``<U+2014> name
   base64(key id || signature)``. Its origin is the export's; it carries a valid Ed25519
   signature by one of the given keys (signature lines of other keys are ignored; a signature
   that claims to be by a given key but does not verify is a failure); its size is no larger
   than the number of leaves; and its root is the RFC 9162 root of the first ``size`` leaves.
4. Every kept head: a valid signature by a given key; a size no larger than the newest head's
   (the last head of the export), or the log was truncated; and a root consistent with the
   newest head, by the RFC 9162 section 2.1.4 consistency proof computed here from the export's
   leaves and checked with the RFC's section 2.1.4.2 algorithm. When a kept file holds event
   lines too, each of its leaves must be the same leaf in the new export, so a rewritten event
   is named by its leaf number. A head seen twice (a re-delivered head) is fine.

Without ``--kept`` the export is only checked against itself: whoever holds the signing key can
rewrite the log and re-sign every head, and only heads kept from before reveal it. Keep the
heads you receive and pass them on every check.

Exit status: 0 when everything holds (a short report is printed); 1 at the first thing that
does not hold, printed as one line ``FAILED: <place>: <what>``, the place being for instance
``leaf 17 (event 18)``, ``head of size 812 signed 2026-12-06T18:31:18Z``, ``kept head of size
5 signed ...`` or ``line 40 of FILE``; 2 for input that cannot be checked at all (a file that
cannot be read, a line that is not JSON, a file that is not an export, a malformed key).

The export is read line by line; only the leaf hashes (32 bytes each) are kept in memory, plus
a cache of the hashes of complete subtrees of 256 leaves and more (about one hash per 128
leaves) so that many heads and kept heads are checked in O(log n) each after the first.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - depends on the auditor's machine
    print(
        "verify_audit.py: error: needs the 'cryptography' package (pip install cryptography)",
        file=sys.stderr,
    )
    raise SystemExit(2) from None

EXPORT_FORMAT = "p2c-hub-audit-export/1"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # EM DASH, space
KEY_ID_SIZE = 4
ED25519_SIGNATURE_SIZE = 64
ED25519_PUBLIC_KEY_SIZE = 32

_ORIGIN = re.compile(r"[\x21-\x2a\x2c-\x7e]+")  # printable ASCII, no space, no "+"
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")  # a tree size fits in 63 bits
_TIME_LINE = re.compile(r"time ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)")
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_KEY_ID_HEX = re.compile(r"[0-9a-f]{8}")

JSONObject = dict[str, object]


class BadInputError(Exception):
    """The input cannot be checked at all (exit 2)."""


class CheckFailedError(Exception):
    """Something that must hold does not (exit 1)."""

    def __init__(self, place: str, what: str) -> None:
        super().__init__(f"{place}: {what}")
        self.place = place
        self.what = what


# --- hashing -------------------------------------------------------------------------------------


def canonical_bytes(event: object) -> bytes:
    """The canonical form of an event (README, "The canonical form")."""
    text = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class LeafHashes:
    """The log's leaf hashes, 32 bytes each in one buffer, and the Merkle tree over them."""

    MEMO_MIN = 256  # complete subtrees of at least this many leaves are remembered

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._memo: dict[tuple[int, int], bytes] = {}

    def __len__(self) -> int:
        return len(self._buffer) // HASH_SIZE

    def append(self, digest: bytes) -> None:
        self._buffer += digest

    def leaf(self, index: int) -> bytes:
        offset = index * HASH_SIZE
        return bytes(self._buffer[offset : offset + HASH_SIZE])

    def root(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) as in RFC 9162 section 2.1.1."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.leaf(start)
        if n & (n - 1) == 0:  # a complete subtree
            if n <= self.MEMO_MIN:
                return self._complete(start, n)
            cached = self._memo.get((start, n))
            if cached is None:
                half = n // 2
                cached = node_hash(self.root(start, start + half), self.root(start + half, end))
                self._memo[(start, n)] = cached
            return cached
        k = split_point(n)
        return node_hash(self.root(start, start + k), self.root(start + k, end))

    def _complete(self, start: int, n: int) -> bytes:
        first = start * HASH_SIZE
        level = [
            bytes(self._buffer[offset : offset + HASH_SIZE])
            for offset in range(first, first + n * HASH_SIZE, HASH_SIZE)
        ]
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        return level[0]


def consistency_proof(tree: LeafHashes, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[0:second]) of RFC 9162 section 2.1.4.1; empty from 0 or between equals."""
    if not 0 < first < second:
        return []
    return _subproof(tree, first, 0, second, True)


def _subproof(tree: LeafHashes, m: int, start: int, end: int, whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], whole) of RFC 9162 section 2.1.4.1."""
    n = end - start
    if m == n:
        return [] if whole else [tree.root(start, end)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(tree, m, start, start + k, whole), tree.root(start + k, end)]
    return [*_subproof(tree, m - k, start + k, end, False), tree.root(start, start + k)]


def verify_consistency(
    first: int, second: int, first_hash: bytes, second_hash: bytes, proof: Sequence[bytes]
) -> bool:
    """Check a consistency proof with the algorithm of RFC 9162 section 2.1.4.2."""
    if first > second or first < 0:
        return False
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0:
        return not proof
    path = list(proof)
    if not path:  # step 1
        return False
    if first & (first - 1) == 0:  # step 2
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0  # step 7


# --- keys and signed notes -----------------------------------------------------------------------


def key_id(name: str, public_key: bytes) -> bytes:
    """The signed-note key id: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519_TYPE + public_key).digest()
    return digest[:KEY_ID_SIZE]


def strict_b64decode(text: str) -> bytes | None:
    """Standard base64 with padding (RFC 4648 section 4), in its one canonical spelling."""
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    if base64.b64encode(data).decode("ascii") != text:
        return None
    return data


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey
    text: str


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse a C2SP verifier key ``name+keyid+base64(0x01 || key)``."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise BadInputError(f"malformed key {text!r}: expected name+keyid+key")
    name, id_hex, key_b64 = parts
    if not _ORIGIN.fullmatch(name):
        raise BadInputError(
            f"malformed key {text!r}: the name must be printable ASCII, no spaces, no '+'"
        )
    if not _KEY_ID_HEX.fullmatch(id_hex):
        raise BadInputError(
            f"malformed key {text!r}: the key id must be 8 lowercase hexadecimal digits"
        )
    raw = strict_b64decode(key_b64)
    if raw is None:
        raise BadInputError(f"malformed key {text!r}: the key is not standard padded base64")
    if len(raw) != 1 + ED25519_PUBLIC_KEY_SIZE or raw[:1] != ED25519_TYPE:
        raise BadInputError(
            f"malformed key {text!r}: the key must be 0x01 and a 32-byte Ed25519 public key"
        )
    public = raw[1:]
    expected = key_id(name, public)
    if expected.hex() != id_hex:
        raise BadInputError(
            f"malformed key {text!r}: its key id {id_hex} is not the id of its name and key"
            f" ({expected.hex()})"
        )
    try:
        loaded = Ed25519PublicKey.from_public_bytes(public)
    except ValueError as error:
        raise BadInputError(f"malformed key {text!r}: {error}") from None
    return VerifierKey(name=name, key_id=expected, public_key=loaded, text=text)


def load_key_argument(argument: str) -> list[VerifierKey]:
    """A ``--key`` value: the key itself, or ``@PATH`` of a file holding one key a line (as
    ``p2c-hub audit public-key`` prints them, once a key was rotated)."""
    if argument.startswith("@"):
        path = argument[1:]
        try:
            with open(path, encoding="utf-8") as handle:
                lines = [line.strip() for line in handle if line.strip()]
        except (OSError, UnicodeDecodeError) as error:
            raise BadInputError(f"cannot read the key file {path}: {error}") from None
        if not lines:
            raise BadInputError(f"the key file {path} holds no key")
        return [parse_verifier_key(line) for line in lines]
    return [parse_verifier_key(argument.strip())]


class NoteError(Exception):
    """A signed note that is not a well-formed tree head."""


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class Head:
    origin: str
    size: int
    root: bytes
    time: str
    body: bytes
    signatures: tuple[NoteSignature, ...]

    @property
    def label(self) -> str:
        return f"size {self.size} signed {self.time}"

    @property
    def root_b64(self) -> str:
        return base64.b64encode(self.root).decode("ascii")


def _valid_signer_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def parse_head_note(note: str) -> Head:
    """Parse a tree head: a C2SP signed note over a C2SP checkpoint with a ``time`` line."""
    try:
        note.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError("the note is not valid UTF-8") from None
    for ch in note:
        if ch != "\n" and (ord(ch) < 0x20 or ord(ch) == 0x7F):
            raise NoteError(f"the note holds the control character {ch!r}")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("no empty line between the signed text and the signatures")
    body, signature_block = note[: split + 1], note[split + 2 :]
    lines = body.split("\n")[:-1]
    if len(lines) != 4 or not all(lines):
        raise NoteError(f"the signed text must be exactly four non-empty lines, not {body!r}")
    origin, size_text, root_text, time_line = lines
    if not _ORIGIN.fullmatch(origin):
        raise NoteError(f"the origin {origin!r} is not printable ASCII without spaces or '+'")
    if not _SIZE.fullmatch(size_text):
        raise NoteError(f"the size {size_text!r} is not decimal without leading zeros")
    root = strict_b64decode(root_text)
    if root is None or len(root) != HASH_SIZE:
        raise NoteError(f"the root {root_text!r} is not standard base64 of 32 bytes")
    time_match = _TIME_LINE.fullmatch(time_line)
    if time_match is None:
        raise NoteError(f"the fourth line {time_line!r} is not 'time YYYY-MM-DDTHH:MM:SSZ'")
    time = time_match.group(1)
    try:
        datetime.strptime(time, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise NoteError(f"the time {time!r} is not a valid moment") from None
    if not signature_block:
        raise NoteError("no signature lines")
    if not signature_block.endswith("\n"):
        raise NoteError("the last signature line does not end in a newline")
    signatures = []
    for line in signature_block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"the signature line {line!r} does not start with an em dash, space")
        name, space, signature_b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not space or not _valid_signer_name(name) or " " in signature_b64:
            raise NoteError(f"the signature line {line!r} is not 'EM DASH, space, name, signature'")
        try:
            raw = base64.b64decode(signature_b64, validate=True)
        except ValueError:
            raise NoteError(f"the signature in {line!r} is not standard base64") from None
        if len(raw) <= KEY_ID_SIZE:
            raise NoteError(f"the signature in {line!r} is too short")
        signatures.append(
            NoteSignature(name=name, key_id=raw[:KEY_ID_SIZE], signature=raw[KEY_ID_SIZE:])
        )
    return Head(
        origin=origin,
        size=int(size_text),
        root=root,
        time=time,
        body=body.encode("utf-8"),
        signatures=tuple(signatures),
    )


def signature_problem(head: Head, keys: Sequence[VerifierKey]) -> str | None:
    """None when the head carries a valid signature by one of ``keys``, else what is wrong."""
    for signature in head.signatures:
        for key in keys:
            if signature.name != key.name or signature.key_id != key.key_id:
                continue
            try:
                if len(signature.signature) != ED25519_SIGNATURE_SIZE:
                    raise InvalidSignature
                key.public_key.verify(signature.signature, head.body)
            except InvalidSignature:
                return f"the signature by {key.text} does not verify"
            return None
    found = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in head.signatures)
    return f"no signature by a given key (it is signed by {found})"


# --- reading JSON lines --------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, object]]) -> JSONObject:
    result: JSONObject = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def read_json_lines(path: str) -> Iterator[tuple[int, JSONObject]]:
    """Each line of ``path`` as a JSON object with a string ``type``, with its line number."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, around a generator
    except OSError as error:
        raise BadInputError(f"cannot read {path}: {error.strerror or error}") from None
    with handle:
        line_number = 0
        while True:
            try:
                raw = handle.readline()
            except OSError as error:
                raise BadInputError(f"cannot read {path}: {error.strerror or error}") from None
            if not raw:
                return
            line_number += 1
            where = f"line {line_number} of {path}"
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BadInputError(f"{where}: not UTF-8") from None
            try:
                value = json.loads(
                    text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants
                )
            except (ValueError, RecursionError) as error:
                raise BadInputError(f"{where}: not a JSON line: {error}") from None
            if not isinstance(value, dict):
                raise BadInputError(f"{where}: not a JSON object")
            if not isinstance(value.get("type"), str):
                raise BadInputError(f'{where}: no "type"')
            yield line_number, value


def _int_field(line: JSONObject, name: str, where: str) -> int:
    value = line.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadInputError(f"{where}: {name!r} is not a non-negative integer")
    return value


def _str_field(line: JSONObject, name: str, where: str) -> str:
    value = line.get(name)
    if not isinstance(value, str):
        raise BadInputError(f"{where}: {name!r} is not a string")
    return value


@dataclass(frozen=True)
class EventLine:
    leaf: int
    event_id: int
    stated_hash: str
    computed_hash: bytes

    @property
    def place(self) -> str:
        return f"leaf {self.leaf} (event {self.event_id})"


def read_event_line(line: JSONObject, where: str) -> EventLine:
    leaf = _int_field(line, "leaf", where)
    event_id = _int_field(line, "event_id", where)
    stated = _str_field(line, "leaf_hash", where)
    if not _HEX_HASH.fullmatch(stated):
        raise BadInputError(f"{where}: 'leaf_hash' is not 64 lowercase hexadecimal digits")
    event = line.get("event")
    if not isinstance(event, dict):
        raise BadInputError(f"{where}: 'event' is not a JSON object")
    try:
        data = canonical_bytes(event)
    except UnicodeEncodeError:
        raise CheckFailedError(
            f"leaf {leaf} (event {event_id})", "its event cannot be written in UTF-8"
        ) from None
    return EventLine(
        leaf=leaf, event_id=event_id, stated_hash=stated, computed_hash=leaf_hash(data)
    )


def read_head_line(line: JSONObject, where: str) -> Head:
    note = _str_field(line, "note", where)
    try:
        return parse_head_note(note)
    except NoteError as error:
        raise CheckFailedError(
            where, f"the head is not a well-formed signed note: {error}"
        ) from None


# --- the checks ----------------------------------------------------------------------------------


@dataclass
class ExportSummary:
    path: str
    origin: str
    exported_at: str
    tree: LeafHashes
    heads: int
    newest: Head | None


def verify_export(path: str, keys: Sequence[VerifierKey]) -> ExportSummary:
    """Checks 1 and 2 of docs/audit.md: the events and the export's own heads."""
    lines = read_json_lines(path)
    first = next(lines, None)
    if first is None:
        raise BadInputError(f"{path} is empty, not an export")
    _, header = first
    where = f"line 1 of {path}"
    if header["type"] != "log":
        raise BadInputError(f"{path} is not an export: its first line is not the 'log' line")
    if header.get("format") != EXPORT_FORMAT:
        raise BadInputError(
            f"{path} is not an export: its format is {header.get('format')!r},"
            f" not {EXPORT_FORMAT!r}"
        )
    origin = _str_field(header, "origin", where)
    tree_size = _int_field(header, "tree_size", where)
    exported_at = _str_field(header, "exported_at", where)

    tree = LeafHashes()
    heads = 0
    newest: Head | None = None
    in_heads = False

    def check_count() -> None:
        if tree_size != len(tree):
            raise CheckFailedError(
                where, f"tree_size is {tree_size} but the export holds {len(tree)} event lines"
            )

    for line_number, line in lines:
        where_line = f"line {line_number} of {path}"
        kind = line["type"]
        if kind == "event":
            if in_heads:
                raise CheckFailedError(where_line, "an event line after the head lines")
            event = read_event_line(line, where_line)
            expected = len(tree)
            if event.leaf != expected:
                if event.leaf == expected + 1:
                    why = f"leaf {expected} is missing or out of order"
                elif event.leaf > expected:
                    why = f"leaves {expected} to {event.leaf - 1} are missing or out of order"
                else:
                    why = "the leaf is out of order or repeated"
                raise CheckFailedError(
                    event.place, f"found where leaf {expected} was expected ({where_line}): {why}"
                )
            if event.computed_hash.hex() != event.stated_hash:
                raise CheckFailedError(
                    event.place,
                    f"its leaf_hash is {event.stated_hash} but SHA-256(0x00 || canonical bytes"
                    f" of its event) is {event.computed_hash.hex()}",
                )
            tree.append(event.computed_hash)
        elif kind == "head":
            if not in_heads:
                in_heads = True
                check_count()
            head = read_head_line(line, where_line)
            place = f"head of {head.label}"
            if head.origin != origin:
                raise CheckFailedError(
                    place, f"its origin {head.origin!r} is not the export's {origin!r}"
                )
            problem = signature_problem(head, keys)
            if problem is not None:
                raise CheckFailedError(place, problem)
            if head.size > len(tree):
                raise CheckFailedError(
                    place, f"larger than the export, which holds {len(tree)} leaves"
                )
            actual = tree.root(0, head.size)
            if actual != head.root:
                raise CheckFailedError(
                    place,
                    f"its root {head.root_b64} is not the root of the first {head.size} leaves"
                    f" ({base64.b64encode(actual).decode('ascii')})",
                )
            heads += 1
            newest = head
        elif kind == "log":
            raise BadInputError(f"{where_line}: a second 'log' line")
        else:
            raise BadInputError(f"{where_line}: unknown line type {kind!r}")
    if not in_heads:
        check_count()
    return ExportSummary(
        path=path, origin=origin, exported_at=exported_at, tree=tree, heads=heads, newest=newest
    )


@dataclass
class KeptSummary:
    head_lines: int = 0
    distinct_heads: int = 0
    leaves: int = 0


def verify_kept(
    path: str,
    keys: Sequence[VerifierKey],
    export: ExportSummary,
    seen: set[str],
    summary: KeptSummary,
) -> None:
    """Check 3 of docs/audit.md for one kept file."""
    tree = export.tree
    for line_number, line in read_json_lines(path):
        where = f"line {line_number} of {path}"
        kind = line["type"]
        if kind == "log":
            if line_number != 1:
                raise BadInputError(f"{where}: a 'log' line that is not the first line")
            if line.get("format") != EXPORT_FORMAT:
                raise BadInputError(
                    f"{path} is not an export: its format is {line.get('format')!r},"
                    f" not {EXPORT_FORMAT!r}"
                )
        elif kind == "event":
            event = read_event_line(line, where)
            place = f"{event.place} of {path}"
            if event.computed_hash.hex() != event.stated_hash:
                raise CheckFailedError(
                    place, "the kept leaf_hash does not match its kept event (a damaged file)"
                )
            if event.leaf >= len(tree):
                raise CheckFailedError(
                    place,
                    f"not in the export, which holds {len(tree)} leaves: the log was truncated",
                )
            if tree.leaf(event.leaf) != event.computed_hash:
                raise CheckFailedError(
                    place,
                    f"differs from leaf {event.leaf} of the export (kept leaf hash"
                    f" {event.stated_hash}, now {tree.leaf(event.leaf).hex()}):"
                    " the log was rewritten",
                )
            summary.leaves += 1
        elif kind == "head":
            summary.head_lines += 1
            note = _str_field(line, "note", where)
            if note in seen:
                continue  # a head seen twice is fine
            head = read_head_line(line, where)
            place = f"kept head of {head.label} ({where})"
            _check_kept_head(head, place, keys, export)
            seen.add(note)
            summary.distinct_heads += 1
        else:
            raise BadInputError(f"{where}: unknown line type {kind!r}")


def _check_kept_head(
    head: Head, place: str, keys: Sequence[VerifierKey], export: ExportSummary
) -> None:
    if head.origin != export.origin:
        raise CheckFailedError(
            place, f"its origin {head.origin!r} is not the export's {export.origin!r}"
        )
    problem = signature_problem(head, keys)
    if problem is not None:
        raise CheckFailedError(place, problem)
    newest = export.newest
    if newest is None:
        raise CheckFailedError(place, "the export holds no head to check it against")
    if head.size > newest.size:
        raise CheckFailedError(
            place,
            f"larger than the newest head of the export ({newest.label}): the log was truncated",
        )
    if head.size == 0:
        if head.root != EMPTY_ROOT:
            raise CheckFailedError(place, "its root is not the root of an empty tree")
        return
    proof = consistency_proof(export.tree, head.size, newest.size)
    if not verify_consistency(head.size, newest.size, head.root, newest.root, proof):
        raise CheckFailedError(
            place,
            f"not consistent with the newest head of the export ({newest.label}): the log was"
            f" rewritten (kept root {head.root_b64}, the export's first {head.size} leaves give"
            f" {base64.b64encode(export.tree.root(0, head.size)).decode('ascii')})",
        )


# --- command line --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="verify_audit.py",
        description=(
            "Verify an export of the P2C Hub's audit ledger (docs/audit.md) against the hub's"
            " public key(s) and the heads you kept. Exit 0: everything holds; 1: the first"
            " thing that does not, printed as 'FAILED: <place>: <what>'; 2: bad input."
        ),
    )
    parser.add_argument("export", metavar="EXPORT", help="the file p2c-hub audit export wrote")
    parser.add_argument(
        "--key",
        metavar="VKEY",
        action="append",
        required=True,
        help=(
            "a verifier key name+keyid+base64key (as 'p2c-hub audit public-key' prints it), or"
            " @PATH of a file holding one a line; repeat for several keys"
        ),
    )
    parser.add_argument(
        "--kept",
        metavar="FILE",
        action="extend",
        nargs="+",
        default=[],
        help=(
            "a file of heads you kept (an export target file) or an earlier export; every"
            " head in it must be consistent with the export, every leaf in it the same"
        ),
    )
    return parser


def _fail(message: str, code: int, *, to_stdout: bool = False) -> NoReturn:
    print(message, file=sys.stdout if to_stdout else sys.stderr)
    raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):  # never fail on printing a strange name
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    try:
        keys = [key for text in args.key for key in load_key_argument(text)]
        export = verify_export(args.export, keys)
        kept = KeptSummary()
        seen: set[str] = set()
        kept_files: list[str] = args.kept
        for path in kept_files:
            verify_kept(path, keys, export, seen, kept)
    except BadInputError as error:
        _fail(f"verify_audit.py: error: {error}", 2)
    except CheckFailedError as failure:
        _fail(f"FAILED: {failure.place}: {failure.what}", 1, to_stdout=True)

    count = len(export.tree)
    print(f"verified {export.path}: origin {export.origin}, exported {export.exported_at}")
    leaves = f" (leaves 0 to {count - 1})" if count else ""
    print(f"  events checked: {count}{leaves}")
    print(f"  heads checked: {export.heads}")
    if export.newest is None:
        print("  newest head: none")
    else:
        newest = export.newest
        print(f"  newest head: size {newest.size}, signed {newest.time}, root {newest.root_b64}")
    if kept_files:
        print(
            f"  kept heads checked: {kept.head_lines} ({kept.distinct_heads} distinct) and kept"
            f" leaves checked: {kept.leaves}, from {len(kept_files)} file(s)"
        )
    else:
        print("  kept heads checked: 0 (no --kept file: the export was checked against itself)")
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
