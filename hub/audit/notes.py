"""Tree heads as C2SP signed notes holding a checkpoint, byte for byte as docs/audit.md
defines them: made, signed, read and checked here, as pure functions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
"""The signature type of Ed25519 in signed notes."""
DASH = "\u2014"
NAME = re.compile(r"[!-*,-~]{1,50}")
"""A key name: printable ASCII without spaces or ``+``."""
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_SIZE = re.compile(r"0|[1-9][0-9]{0,18}")


class NoteError(ValueError):
    """A note that is not a tree head of this format; the message says where."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a head says: the log, its size and root, and when it was signed."""

    origin: str
    tree_size: int
    root_hash: bytes
    time: datetime

    def body(self) -> bytes:
        """The signed text."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        stamp = self.time.astimezone(UTC).strftime(_TIME)
        return f"{self.origin}\n{self.tree_size}\n{root}\ntime {stamp}\n".encode("ascii")


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: bytes) -> bytes:
    """The 4-byte key id of signed notes: SHA-256(name || LF || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode("ascii") + b"\n" + ED25519 + public).digest()[:4]


def verifier_key(name: str, public: bytes) -> str:
    """The C2SP verifier key an auditor is given: ``name+keyid+base64(0x01 || key)``."""
    encoded = base64.b64encode(ED25519 + public).decode("ascii")
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def sign(checkpoint: Checkpoint, name: str, private: Ed25519PrivateKey) -> str:
    """The signed note of ``checkpoint``, signed by the key ``name``."""
    body = checkpoint.body()
    signature = key_id(name, public_bytes(private.public_key())) + private.sign(body)
    line = f"{DASH} {name} {base64.b64encode(signature).decode('ascii')}\n"
    return body.decode("ascii") + "\n" + line


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes


def read(note: str) -> tuple[Checkpoint, bytes, list[Signature]]:
    """The checkpoint, the signed body and the signatures of ``note``; ``NoteError``."""
    body, separator, signed = note.partition("\n\n")
    if not separator or not signed.endswith("\n"):
        raise NoteError("not a signed note: no empty line before the signatures")
    lines = body.split("\n")
    if len(lines) != 4:
        raise NoteError(f"the checkpoint has {len(lines)} lines, not 4")
    origin, size, root_text, stamp = lines
    if not NAME.fullmatch(origin):
        raise NoteError(f"{origin!r} is not a log origin")
    if not _SIZE.fullmatch(size):
        raise NoteError(f"{size!r} is not a tree size")
    try:
        root = base64.b64decode(root_text, validate=True)
        time = datetime.strptime(stamp.removeprefix("time "), _TIME).replace(tzinfo=UTC)
    except (binascii.Error, ValueError):
        raise NoteError("the root hash or the time is malformed") from None
    if len(root) != 32 or not stamp.startswith("time "):
        raise NoteError("the root hash or the time is malformed")
    checkpoint = Checkpoint(origin, int(size), root, time)
    if checkpoint.body() != (body + "\n").encode("ascii", errors="replace"):
        raise NoteError("the checkpoint is not in its canonical form")
    return checkpoint, checkpoint.body(), [_signature(line) for line in signed[:-1].split("\n")]


def _signature(line: str) -> Signature:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != DASH or not NAME.fullmatch(parts[1]):
        raise NoteError(f"{line!r} is not a signature line")
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        raise NoteError(f"{line!r} is not a signature line") from None
    if len(raw) < 5:
        raise NoteError(f"{line!r} is not a signature line")
    return Signature(parts[1], raw[:4], raw[4:])  # other types (a witness's cosignature) too


def signed_by(body: bytes, signatures: list[Signature], name: str, public: bytes) -> bool:
    """Whether one of ``signatures`` is a valid one of ``body`` by the key ``name``."""
    wanted = key_id(name, public)
    key = Ed25519PublicKey.from_public_bytes(public)
    for found in signatures:
        if found.name == name and found.key_id == wanted and len(found.signature) == 64:
            try:
                key.verify(found.signature, body)
                return True
            except InvalidSignature:
                continue
    return False
