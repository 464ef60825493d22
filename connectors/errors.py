"""What goes wrong reading a partner's source: the connectors' one error type."""

from __future__ import annotations


class SourceError(Exception):
    """The source could not be read; ``retryable`` when asking again may help (a server
    error, a cut connection, a body that did not parse because it arrived incomplete)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class Malformed(SourceError):
    """A response that is not what the source's API returns: not JSON or XML, or JSON of
    another shape. Retried, since a body cut short reads the same way."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)
