"""The one HTTP client every HTTP connector reads its source through.

One client per run: OAuth 2.0 client credentials through authlib (tokens fetched again when
they expire, with the configured audience or resource on every token request, and once more
on a 401), or an API key header, or nothing for an open API. Retries with exponential
backoff and jitter (stamina) on transport errors, on 408, 429, 500, 502, 503 and 504, and on
bodies that do not parse (a body cut short reads so); ``Retry-After`` is honoured, capped.
Other 4xx answers are not retried. Bodies are capped in size after decompression, and at
most ``concurrency`` requests of a run are in flight at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx
import stamina
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # authlib 1.9 asks for the httpx2 fork and falls back to httpx, which the hub uses
    # everywhere, with a warning at import; one HTTP library is worth the fallback.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from connectors.errors import Malformed, SourceError
from hub.imports.connectors import HttpConfig

T = TypeVar("T")

RETRIED_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_AFTER_CAP = 120.0
"""The longest ``Retry-After`` the client waits; longer asks are waited this long."""
TOKEN_LEEWAY = 10
"""A token this close to its expiry is fetched again before the request."""


@dataclass
class Traffic:
    """What a run's client did, for the run's record."""

    requests: int = 0
    retries: int = 0


class _Busy(SourceError):
    """An answer worth asking again for, perhaps after the server's ``Retry-After``."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message, retryable=True)
        self.retry_after = retry_after


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), at
    most :data:`RETRY_AFTER_CAP`; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def should_retry(error: Exception) -> bool | float:
    """stamina's backoff hook: whether to ask again, and after how long when the server
    said (``Retry-After``); else stamina's exponential backoff with jitter."""
    if isinstance(error, _Busy) and error.retry_after is not None:
        return error.retry_after
    if isinstance(error, SourceError):
        return error.retryable
    return isinstance(error, httpx.RequestError)


class _OAuthClient(AsyncOAuth2Client):  # type: ignore[misc]
    """authlib's client, sending the audience or resource on every token request: its own
    refetch of an expired token passes only the grant type."""

    def __init__(self, extra: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.extra_token_parameters = dict(extra)
        self.register_compliance_hook("access_token_response", _busy_token_endpoint)

    def fetch_token(self, url: str | None = None, **kwargs: Any) -> Any:
        return super().fetch_token(url, **{**self.extra_token_parameters, **kwargs})


def _busy_token_endpoint(response: httpx.Response) -> httpx.Response:
    """A token endpoint that is busy or down (429 with a JSON error, as Auth0 answers, or a
    5xx) is asked again, after its ``Retry-After``: authlib would read the first as the
    credentials refused."""
    if response.status_code in RETRIED_STATUSES:
        wait = retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        raise _Busy(f"the token endpoint answered {response.status_code}", wait)
    return response


class HttpSource:
    """A run's client of one partner API. Use as ``async with``."""

    def __init__(self, config: HttpConfig, secret: str | None) -> None:
        self.config = config
        self.traffic = Traffic()
        self.total: int | None = None
        """How many records the source says the pass holds, once a page said so."""
        self._slots = asyncio.Semaphore(config.concurrency)
        common: dict[str, Any] = {
            "timeout": httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0)),
            "event_hooks": {"request": [self._count]},
            "follow_redirects": False,
            "headers": {"Accept": "application/json", "User-Agent": "p2c-hub connector"},
        }
        self._oauth = config.token_url is not None
        if self._oauth:
            extra = {
                name: value
                for name, value in (("audience", config.audience), ("resource", config.resource))
                if value
            }
            self._client: httpx.AsyncClient = _OAuthClient(
                extra,
                client_id=config.client_id,
                client_secret=secret,
                scope=config.scope,
                token_endpoint=config.token_url,
                grant_type="client_credentials",
                leeway=TOKEN_LEEWAY,
                **common,
            )
        else:
            if config.key_header and secret:
                common["headers"][config.key_header] = secret
            self._client = httpx.AsyncClient(**common)

    async def __aenter__(self) -> HttpSource:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self._client.aclose()

    async def _count(self, _: httpx.Request) -> None:
        self.traffic.requests += 1

    async def get(
        self, url: str, params: Mapping[str, str], parse: Callable[[bytes], T], what: str
    ) -> T:
        """The parsed body of ``GET url?params``, asked again on transient faults;
        ``what`` names the request in errors (such as "page 3")."""
        attempts = 0
        async for attempt in stamina.retry_context(
            on=should_retry,
            attempts=self.config.attempts,
            timeout=self.config.retry_seconds,
            wait_initial=0.5,
            wait_max=30.0,
            wait_jitter=1.0,
        ):
            with attempt:
                attempts += 1
                if attempts > 1:
                    self.traffic.retries += 1
                async with self._slots:
                    body = await self._body(url, params, what)
                return parse(body)
        raise AssertionError("stamina yields until an attempt returns or raises")

    async def token(self) -> None:
        """Fetch a token now: a check of the credentials and the token endpoint."""
        assert isinstance(self._client, _OAuthClient)
        with _faults("the token request"):
            await self._client.fetch_token()

    async def _body(self, url: str, params: Mapping[str, str], what: str) -> bytes:
        with _faults(what):
            if self._oauth:
                return await self._with_token(url, params, what)
            try:
                return await self._read(url, params, what)
            except _Unauthorised as refused:
                raise SourceError(
                    f"{what}: the API refused the connector's key ({refused})"
                ) from None

    async def _with_token(self, url: str, params: Mapping[str, str], what: str) -> bytes:
        """The body with a bearer token: one is fetched first, and once more on a 401."""
        client = self._client
        assert isinstance(client, _OAuthClient)
        if not client.token:
            await client.fetch_token()
        try:
            return await self._read(url, params, what)
        except _Unauthorised:
            await client.fetch_token()
        try:
            return await self._read(url, params, what)
        except _Unauthorised as again:
            raise SourceError(
                f"{what}: the API refused a fresh token of the connector ({again})"
            ) from None

    async def _read(self, url: str, params: Mapping[str, str], what: str) -> bytes:
        async with self._client.stream("GET", url, params=dict(params)) as response:
            status = response.status_code
            if status == 401:
                raise _Unauthorised(response.headers.get("WWW-Authenticate", "401"))
            if status in RETRIED_STATUSES:
                wait = retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
                raise _Busy(f"{what}: the API answered {status}", wait)
            if status >= 400:
                snippet = (await response.aread())[:300].decode("utf-8", "replace")
                raise SourceError(f"{what}: the API answered {status}: {snippet}".rstrip(": "))
            if status >= 300:
                raise SourceError(f"{what}: the API redirected ({status}), which is not followed")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.config.max_bytes:
                    raise SourceError(
                        f"{what}: the answer is larger than {self.config.max_bytes} bytes, "
                        "the connector's limit"
                    )
                chunks.append(chunk)
            return b"".join(chunks)


@contextmanager
def _faults(what: str) -> Iterator[None]:
    """The HTTP and OAuth libraries' errors as :class:`SourceError`, retryable or not."""
    try:
        yield
    except OAuthError as refused:
        raise SourceError(
            f"the token endpoint refused the connector's credentials: {refused.error}"
            + (f" ({refused.description})" if refused.description else "")
        ) from None
    except httpx.HTTPStatusError as failed:  # the token endpoint's own error statuses
        raise SourceError(f"the token endpoint answered {failed.response.status_code}") from None
    except ValueError:  # authlib reading a token endpoint's answer that is no JSON
        raise Malformed("the token endpoint's answer is not JSON (a portal's page?)") from None
    except httpx.RequestError as failed:  # transport errors, and a body that will not decode
        raise SourceError(
            f"{what}: {type(failed).__name__} {failed}".rstrip(), retryable=True
        ) from None


class _Unauthorised(Exception):
    """A 401 from the API: the token is asked for again, once."""
