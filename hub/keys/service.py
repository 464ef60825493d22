"""The one place that holds the hub's keys: it makes, rotates, publishes and opens them.

Private keys are sealed by the vault before they reach the database; public keys are
stored as JWKs, ready to publish. Tokens are signed with RSA keys; the audit log's tree heads
with Ed25519 keys, which never retire (old heads must stay verifiable), named after the log
when they are made; connector secrets will keep their keys here too.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.audit.notes import key_id, public_bytes
from hub.errors import Conflict, NotFound
from hub.integrity import flush
from hub.keys.models import KeyPurpose, ServerKey
from hub.keys.rotation import is_published, plan_rotation, signing_key
from hub.keys.vault import Vault

SIGNING_ALGORITHM = "RS256"
"""RS256: what every JOSE library and identity provider verifies. (EdDSA is deprecated by
RFC 9864 in favour of algorithm names that few verifiers know yet.)"""

RSA_BITS = 2048


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An opened private key, ready to sign."""

    kid: str
    algorithm: str
    key: RSAKey


async def keys_for(session: AsyncSession, purpose: KeyPurpose) -> list[ServerKey]:
    """Every key of ``purpose`` the hub has held, oldest first."""
    found = await session.scalars(
        select(ServerKey)
        .where(ServerKey.purpose == purpose)
        .order_by(ServerKey.signs_from, ServerKey.kid)
    )
    return list(found)


async def token_keys(session: AsyncSession) -> list[ServerKey]:
    """Every token-signing key the hub has held, oldest first."""
    return await keys_for(session, KeyPurpose.TOKEN_SIGNING)


async def published_token_jwks(session: AsyncSession, now: datetime) -> list[dict[str, Any]]:
    """The public JWKs verifiers should trust at ``now``."""
    keys = await token_keys(session)
    return [json.loads(key.public_jwk) for key in keys if is_published(key, now)]


async def open_signing_key(
    session: AsyncSession, vault: Vault, now: datetime, opened: dict[str, SigningKey] | None = None
) -> SigningKey | None:
    """The key that signs tokens at ``now``, opened; None when the hub has none.

    Which key signs is read every time; ``opened`` keeps keys already opened by kid, since
    importing an RSA key (which checks it) takes tens of milliseconds and a kid's key never
    changes.
    """
    current = signing_key(await token_keys(session), now)
    if current is None:
        return None
    if opened is not None and current.kid in opened:
        return opened[current.kid]
    private = json.loads(vault.open(current.private_key, what=f"signing key {current.kid}"))
    key = SigningKey(current.kid, current.algorithm, RSAKey.import_key(private))
    if opened is not None:
        opened[current.kid] = key
    return key


async def rotate_token_key(
    session: AsyncSession,
    vault: Vault,
    now: datetime,
    *,
    publish_ahead: timedelta,
    keep_after: timedelta,
) -> ServerKey:
    """Publish a new signing key now; it signs after ``publish_ahead``, and the keys it
    replaces stay published until ``keep_after`` past that."""
    keys = await token_keys(session)
    rotation = plan_rotation(keys, now, publish_ahead, keep_after)
    for key in keys:
        if key.kid in rotation.retirements:
            key.retires_at = rotation.retirements[key.kid]
    key = _new_key(vault, now, rotation.signs_from)
    session.add(key)
    await flush(session)
    return key


async def ensure_token_key(session: AsyncSession, vault: Vault, now: datetime) -> ServerKey | None:
    """A first signing key when the hub has none in service; None when it has one."""
    if signing_key(await token_keys(session), now) is not None:
        return None
    return await rotate_token_key(
        session, vault, now, publish_ahead=timedelta(0), keep_after=timedelta(0)
    )


async def retire_token_key(session: AsyncSession, kid: str, now: datetime) -> ServerKey:
    """Withdraw a key from the JWKS at once (a compromised key): tokens it signed are refused
    as soon as each process refreshes its key set."""
    key = await session.get(ServerKey, kid)
    if key is None or key.purpose is not KeyPurpose.TOKEN_SIGNING:
        raise NotFound(f"there is no signing key {kid}", field=("kid",))
    if not is_published(key, now):
        raise Conflict(f"signing key {kid} is retired already", code="ALREADY_RETIRED")
    key.retires_at = now
    await flush(session)
    return key


async def reseal_keys(session: AsyncSession, vault: Vault) -> int:
    """Seal every private key again with the first key-encryption key; returns how many."""
    keys = list(await session.scalars(select(ServerKey)))
    for key in keys:
        key.private_key = vault.reseal(key.private_key, what=f"key {key.kid}")
    await flush(session)
    return len(keys)


def _new_key(vault: Vault, now: datetime, signs_from: datetime) -> ServerKey:
    pair = RSAKey.generate_key(RSA_BITS, private=True, auto_kid=True)
    public = {**pair.as_dict(private=False), "use": "sig", "alg": SIGNING_ALGORITHM}
    sealed = vault.seal(json.dumps(pair.as_dict(private=True)).encode("utf-8"))
    return ServerKey(
        kid=pair.kid,
        purpose=KeyPurpose.TOKEN_SIGNING,
        algorithm=SIGNING_ALGORITHM,
        public_jwk=json.dumps(public, sort_keys=True),
        private_key=sealed,
        created_at=now,
        signs_from=signs_from,
    )


@dataclass(frozen=True, slots=True)
class HeadSigner:
    """An opened audit key: its name (the log's origin) and private half."""

    kid: str
    name: str
    key: Ed25519PrivateKey


def audit_public_key(key: ServerKey) -> tuple[str, bytes]:
    """The name and the raw public key of an audit signing key."""
    name = key.kid.rpartition("+")[0]
    x = json.loads(key.public_jwk)["x"]
    return name, base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))


async def log_name(session: AsyncSession, default: str) -> str:
    """The audit log's name (its heads' origin): its first key's, fixed when that key was
    made; ``default`` before there is one."""
    keys = await keys_for(session, KeyPurpose.AUDIT_SIGNING)
    return audit_public_key(keys[0])[0] if keys else default


async def add_audit_key(
    session: AsyncSession, vault: Vault, now: datetime, default_name: str
) -> ServerKey:
    """A new audit signing key, signing from ``now``, named after the log (``default_name``
    for its first key). The older keys stay, so the heads they signed can still be checked."""
    name = await log_name(session, default_name)
    private = Ed25519PrivateKey.generate()
    public = public_bytes(private.public_key())
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    x = base64.urlsafe_b64encode(public).rstrip(b"=").decode("ascii")
    key = ServerKey(
        kid=f"{name}+{key_id(name, public).hex()}",
        purpose=KeyPurpose.AUDIT_SIGNING,
        algorithm="Ed25519",
        public_jwk=json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, sort_keys=True),
        private_key=vault.seal(raw),
        created_at=now,
        signs_from=now,
    )
    session.add(key)
    await flush(session)
    return key


async def ensure_audit_key(
    session: AsyncSession, vault: Vault, now: datetime, name: str
) -> ServerKey | None:
    """A first audit signing key when the hub has none; None when it has one."""
    if signing_key(await keys_for(session, KeyPurpose.AUDIT_SIGNING), now) is not None:
        return None
    return await add_audit_key(session, vault, now, name)


async def open_audit_key(session: AsyncSession, vault: Vault, now: datetime) -> HeadSigner | None:
    """The audit key that signs at ``now``, opened; None when the hub has none."""
    current = signing_key(await keys_for(session, KeyPurpose.AUDIT_SIGNING), now)
    if current is None:
        return None
    raw = vault.open(current.private_key, what=f"audit key {current.kid}")
    name, _ = audit_public_key(current)
    return HeadSigner(current.kid, name, Ed25519PrivateKey.from_private_bytes(raw))
