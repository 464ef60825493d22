"""Encryption at rest of the private keys the hub holds, with keys from settings.

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) seals each private key; a
list of key-encryption keys lets an operator rotate them: the first encrypts, every one
decrypts.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hub.errors import HubError

MISSING = (
    "the hub has no key-encryption key: set HUB_KEY_ENCRYPTION_KEYS "
    "(p2c-hub keys generate-encryption-key prints a new one)"
)


def generate_encryption_key() -> str:
    """A new key-encryption key, in the form HUB_KEY_ENCRYPTION_KEYS takes."""
    return Fernet.generate_key().decode("ascii")


class Vault:
    """Seals and opens private keys."""

    def __init__(self, encryption_keys: Sequence[str]) -> None:
        """``encryption_keys`` as the settings checked them: Fernet keys, newest first."""
        self._fernets = [Fernet(key) for key in encryption_keys]

    @property
    def _cipher(self) -> MultiFernet:
        if not self._fernets:
            raise HubError(MISSING, code="NO_ENCRYPTION_KEY")
        return MultiFernet(self._fernets)

    def seal(self, secret: bytes) -> str:
        """``secret`` encrypted with the first key-encryption key."""
        return self._cipher.encrypt(secret).decode("ascii")

    def open(self, sealed: str, *, what: str) -> bytes:
        """The secret in ``sealed``; ``what`` names it in the error if no key opens it."""
        try:
            return self._cipher.decrypt(sealed.encode("ascii"))
        except InvalidToken:
            raise HubError(
                f"none of HUB_KEY_ENCRYPTION_KEYS opens {what}: the key it was sealed with "
                "is missing from the list",
                code="KEY_NOT_OPENED",
            ) from None

    def reseal(self, sealed: str, *, what: str) -> str:
        """``sealed`` sealed again with the first key-encryption key, so older ones can go."""
        self.open(sealed, what=what)
        return self._cipher.rotate(sealed.encode("ascii")).decode("ascii")
