"""The hub's OAuth 2.0 authorization server: authlib's protocol logic on the hub's records.

authlib's server is synchronous, and the hub's database is not: the endpoints load what a
request names (its client, the signing key, the token it asks about) before authlib runs,
and write what authlib decided (a revoked ``jti``) after. One server object is made per
request and holds only that request's records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import KeySet
from starlette.datastructures import Headers

from hub.auth.clients import secret_matches
from hub.auth.models import OAuthClient
from hub.auth.scopes import ClientKind, split_scopes
from hub.auth.validation import Inspected
from hub.keys.service import SigningKey

AUTH_METHODS = ("client_secret_basic", "client_secret_post")
"""How clients authenticate at every endpoint."""

OVERSEERS = frozenset({ClientKind.SECRETARIAT, ClientKind.AUDITOR})
"""Kinds of client that may introspect any of the hub's tokens, not only their own."""


class HubClient(ClientMixin):  # type: ignore[misc]
    """An active client as authlib sees it: confidential, client credentials only."""

    def __init__(self, record: OAuthClient) -> None:
        self.client_id = record.client_id
        self.kind = record.kind
        self.member_id = record.member_id
        self.scopes = split_scopes(record.scopes)
        self._secret_hash = record.secret_hash

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """All the client's scopes when none are asked for; a refusal when more are."""
        if scope is None:
            return " ".join(self.scopes)
        asked = split_scopes(scope)
        if not asked:
            raise InvalidScopeError(description="the scope parameter names no scope")
        beyond = sorted(set(asked) - set(self.scopes))
        if beyond:
            raise InvalidScopeError(
                description=f"the client does not hold {' '.join(beyond)}; "
                f"it holds {' '.join(self.scopes)}"
            )
        return " ".join(sorted(set(asked)))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return secret_matches(client_secret, self._secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class InspectedToken(TokenMixin):  # type: ignore[misc]
    """A token of the hub's, as introspection and revocation see it."""

    def __init__(self, inspected: Inspected) -> None:
        self.claims = inspected.claims
        self.active = inspected.active

    def check_client(self, client: HubClient) -> bool:
        return bool(self.claims.get("client_id") == client.get_client_id())

    def get_scope(self) -> str:
        return str(self.claims.get("scope", ""))

    def get_expires_in(self) -> int:
        return int(self.claims["exp"]) - int(self.claims["iat"])

    def is_expired(self) -> bool:
        return not self.active

    def is_revoked(self) -> bool:
        return not self.active


class _Grant(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS


class _HintIgnored:
    """RFC 7662 section 2.1 and RFC 7009 section 2.1: a hint the server cannot use must not
    stop the search. The hub holds one type of token, so every hint is ignored."""

    def check_params(self, request: Any, client: Any) -> None:
        if "token" not in request.form:
            raise InvalidRequestError("the token parameter is missing")


class _Introspection(_HintIgnored, IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> InspectedToken | None:
        inspected: InspectedToken | None = self.server.inspected
        return inspected

    def check_permission(self, token: InspectedToken, client: HubClient, request: Any) -> bool:
        return client.kind in OVERSEERS or token.check_client(client)

    def introspect_token(self, token: InspectedToken) -> dict[str, Any]:
        kept = ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "nbf", "jti")
        payload = {name: token.claims[name] for name in kept if name in token.claims}
        for extra in ("client_kind", "member_id"):
            if extra in token.claims:
                payload[extra] = token.claims[extra]
        return {"active": True, "token_type": "Bearer", **payload}


class _Revocation(_HintIgnored, RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> InspectedToken | None:
        inspected: InspectedToken | None = self.server.inspected
        return inspected

    def revoke_token(self, token: InspectedToken, request: Any) -> None:
        self.server.revoked.append(token)


class _TokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 tokens carrying the client's kind and, for partners and connectors, its
    member."""

    def __init__(self, issuer: str, audience: str, signing: SigningKey, lifetime: int) -> None:
        super().__init__(issuer, alg=signing.algorithm, expires_generator=lifetime)
        self.audience = audience
        self.signing = signing

    def get_jwks(self) -> KeySet:
        return KeySet([self.signing.key])

    def get_audiences(self, client: HubClient, user: Any, scope: str) -> str:
        return self.audience

    def get_extra_claims(
        self, client: HubClient, grant_type: str, user: Any, scope: str
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {"client_kind": client.kind.value}
        if client.member_id is not None:
            claims["member_id"] = client.member_id
        return claims


@dataclass(frozen=True, slots=True)
class TokenIssue:
    """What the token endpoint needs to sign: the issuer, audience, key and lifetime."""

    issuer: str
    audience: str
    signing: SigningKey
    lifetime: int


class _FormRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, uri: str, headers: Headers, form: Mapping[str, str]) -> None:
        super().__init__("POST", uri, headers=headers)
        self._form = dict(form)
        self.payload = BasicOAuth2Payload(self._form)

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass(frozen=True, slots=True)
class Answer:
    """An OAuth response: status, JSON body and headers."""

    status: int
    body: dict[str, Any]
    headers: list[tuple[str, str]]


class RequestServer(AuthorizationServer):  # type: ignore[misc]
    """The authorization server for one request, holding the records that request names."""

    def __init__(
        self,
        uri: str,
        client: OAuthClient | None,
        *,
        issue: TokenIssue | None = None,
        inspected: Inspected | None = None,
    ) -> None:
        super().__init__()
        self.uri = uri
        self.client = client
        self.inspected = InspectedToken(inspected) if inspected is not None else None
        self.revoked: list[InspectedToken] = []
        self.register_grant(_Grant)
        self.register_endpoint(_Introspection)
        self.register_endpoint(_Revocation)
        if issue is not None:
            self.register_token_generator(
                "default",
                _TokenGenerator(issue.issuer, issue.audience, issue.signing, issue.lifetime),
            )

    def query_client(self, client_id: str) -> HubClient | None:
        if self.client is None or self.client.client_id != client_id:
            return None
        return HubClient(self.client)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Nothing to store: the token is a signed JWT, checked by its signature."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """The hub listens to no authlib signals."""

    def create_oauth2_request(self, request: _FormRequest) -> _FormRequest:
        return request

    def handle_response(
        self, status: int, body: dict[str, Any], headers: list[tuple[str, str]]
    ) -> Answer:
        return Answer(status, body, list(headers))

    def token(self, headers: Headers, form: Mapping[str, str]) -> Answer:
        """RFC 6749 section 4.4: the client credentials grant."""
        answer: Answer = self.create_token_response(_FormRequest(self.uri, headers, form))
        return answer

    def endpoint(self, name: str, headers: Headers, form: Mapping[str, str]) -> Answer:
        """RFC 7662 introspection or RFC 7009 revocation."""
        answer: Answer = self.create_endpoint_response(name, _FormRequest(self.uri, headers, form))
        return answer
