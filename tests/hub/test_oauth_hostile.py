# ruff: noqa: E501  (the table of odd requests reads better one request a line)
"""Hostile and odd input to the OAuth endpoints and the token validator, and the visibility
rule's edges: each found by a review that tried to break the change, each a 4xx or a clear
refusal, never a 500, a dropped connection or a leaked secret."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.keysets import RefreshingKeySet
from hub.organisations.models import Organisation
from tests.fixtures.factories import add_pledge
from tests.fixtures.oauth import (
    Clients,
    basic,
    claims_for,
    get_token,
    hub_http,
    hub_signing_key,
    make_clients_with_draft,
    oauth_settings,
    sign,
)
from tests.fixtures.server import running_hub

PLEDGES = "{ pledges(first: 20) { edges { node { title } } } }"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
async def clients(session_factory: async_sessionmaker[AsyncSession]) -> Clients:
    return await make_clients_with_draft(session_factory)


async def bearer(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": PLEDGES}, headers={"Authorization": f"Bearer {token}"}
    )


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code in (200, 401), (response.status_code, response.text)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
    assert "www-authenticate" in response.headers


# --- 1. anonymous, unsigned tokens that crash the hub instead of being refused ------------


async def test_non_latin1_issuer_in_an_unsigned_token_is_refused_not_500(
    database_url: str,
) -> None:
    """The refusal message echoes iss/alg/kid into WWW-Authenticate; a character outside
    latin-1 makes Starlette fail to encode the header."""
    header = b64(json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": "k"}).encode())
    payload = b64(json.dumps({"iss": "https://\u4e2d.example"}).encode())
    token = f"{header}.{payload}.{b64(b'x')}"
    async with hub_http(oauth_settings(database_url)) as http:
        response = await bearer(http, token)
    assert_unauthenticated(response)


async def test_non_latin1_kid_is_refused_not_500(
    database_url: str, clients: Clients, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    key = (await hub_signing_key(session_factory)).key
    token = sign(claims_for(clients.partner), key, kid="\u20ac-key")
    async with hub_http(oauth_settings(database_url)) as http:
        response = await bearer(http, token)
    assert_unauthenticated(response)


async def test_deeply_nested_payload_is_refused_not_500(database_url: str) -> None:
    """json.loads raises RecursionError, which verify() does not catch."""
    header = b64(json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": "k"}).encode())
    token = f"{header}.{b64(b'[' * 3000)}.{b64(b'x')}"
    async with hub_http(oauth_settings(database_url)) as http:
        response = await bearer(http, token)
    assert_unauthenticated(response)


async def test_deeply_nested_token_at_introspection_is_not_500(
    database_url: str, clients: Clients
) -> None:
    header = b64(json.dumps({"alg": "RS256", "typ": "at+jwt", "kid": "k"}).encode())
    token = f"{header}.{b64(b'[' * 3000)}.{b64(b'x')}"
    async with hub_http(oauth_settings(database_url)) as http:
        response = await http.post(
            "/oauth/introspect", data={"token": token}, auth=basic(clients.partner)
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"active": False}


# --- 2. OAuth endpoints: odd input --------------------------------------------------------


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
async def test_nul_in_client_id_is_invalid_client_not_500(
    database_url: str, clients: Clients, path: str
) -> None:
    """PostgreSQL refuses NUL in text parameters; the lookup raises a DBAPIError."""
    async with hub_http(oauth_settings(database_url)) as http:
        form = {"grant_type": "client_credentials", "token": "x",
                "client_id": "p2c-\x00", "client_secret": "s"}  # fmt: skip
        by_post = await http.post(path, data=form)
        basic_nul = await http.post(
            path,
            data={"grant_type": "client_credentials", "token": "x"},
            headers={"Authorization": "Basic " + base64.b64encode(b"p2c-\x00:s").decode()},
        )
    for response in (by_post, basic_nul):
        assert response.status_code in (400, 401), (response.status_code, response.text)
        assert response.json()["error"] == "invalid_client"


async def test_swapped_credentials_do_not_put_the_secret_in_the_log(
    database_url: str, clients: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    """A common integrator mistake: -u "$SECRET:$ID". The 'client id presented' is logged
    verbatim, so the secret lands in the log."""
    partner = clients.partner
    async with hub_http(oauth_settings(database_url)) as http:
        response = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(partner.secret, partner.client.client_id),
        )
    assert response.status_code == 401
    assert partner.secret not in capsys.readouterr().out


async def test_blank_scope_is_invalid_scope_not_an_empty_token(
    database_url: str, clients: Clients
) -> None:
    """RFC 6749 3.3: scope is 1*scope-token; ' ' is not a scope. The hub issues a token with
    scope '' instead (neither the client's scopes nor invalid_scope)."""
    async with hub_http(oauth_settings(database_url)) as http:
        response = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": " "},
            auth=basic(clients.partner),
        )
    assert response.status_code == 400, response.json()
    assert response.json()["error"] == "invalid_scope"


async def test_refused_requests_count_against_the_address_budget(
    database_url: str, clients: Clients
) -> None:
    """docs/oauth.md: token, revocation and introspection requests count per address;
    requests refused while reading the form are never counted."""
    settings = oauth_settings(database_url, token_requests_per_address_per_hour=2)
    async with hub_http(settings) as http:
        refused = [
            await http.post("/oauth/token", json={"grant_type": "client_credentials"})
            for _ in range(5)
        ]
    assert [r.status_code for r in refused][-1] == 429, [r.status_code for r in refused]


async def test_introspection_with_an_unknown_hint_still_answers(
    database_url: str, clients: Clients
) -> None:
    """RFC 7662 2.1: a hint the server does not understand must not stop the lookup
    (unsupported_token_type is an RFC 7009 error, not a 7662 one)."""
    async with hub_http(oauth_settings(database_url)) as http:
        token = (await get_token(http, clients.partner))["access_token"]
        response = await http.post(
            "/oauth/introspect",
            data={"token": token, "token_type_hint": "urn:ietf:params:oauth:token-type:jwt"},
            auth=basic(clients.partner),
        )
    assert response.status_code == 200, response.text
    assert response.json()["active"] is True


async def test_concurrent_revocations_of_one_token_all_answer_200(
    database_url: str, clients: Clients
) -> None:
    """deny() selects then inserts; two revocations racing insert the same jti."""
    async with hub_http(oauth_settings(database_url)) as http:
        token = (await get_token(http, clients.partner))["access_token"]
        responses = await asyncio.gather(
            *(
                http.post("/oauth/revoke", data={"token": token}, auth=basic(clients.partner))
                for _ in range(8)
            )
        )
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]


# --- 3. claims of a trusted issuer that crash instead of being refused -------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"member_id": "\u00b2"}, id="superscript-two member (isdigit but not int)"),
        pytest.param({"member_id": "9" * 5000}, id="5000-digit member string"),
        pytest.param({"exp": 10**400}, id="exp too big for a float"),
    ],
)
async def test_odd_claims_of_a_signed_token_are_refused_not_500(
    database_url: str,
    clients: Clients,
    session_factory: async_sessionmaker[AsyncSession],
    changes: dict[str, Any],
) -> None:
    """Signed with the hub's own key to stand for any trusted issuer (an external IdP's
    member claim is often a user attribute)."""
    key = (await hub_signing_key(session_factory)).key
    token = sign(claims_for(clients.partner, **changes), key)
    async with hub_http(oauth_settings(database_url)) as http:
        response = await bearer(http, token)
    assert_unauthenticated(response)


async def test_nan_iat_does_not_bypass_the_one_hour_lifetime(
    database_url: str, clients: Clients, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Python's json accepts NaN; every comparison with NaN is false, so a token with iat NaN
    and exp a year away passes check_claims."""
    key = (await hub_signing_key(session_factory)).key
    claims = claims_for(clients.partner, exp=int(time.time()) + 365 * 86400)
    claims["iat"] = float("nan")
    token = sign(claims, key)  # json.dumps writes NaN
    async with hub_http(oauth_settings(database_url)) as http:
        response = await bearer(http, token)
    assert_unauthenticated(response)


# --- 4. key sets ----------------------------------------------------------------------


async def test_requests_arriving_during_a_key_set_fetch_do_not_fetch_again() -> None:
    """Module doc: at most one refresh per refresh_interval. Requests that arrive while the
    first (or a stale-cache) fetch is in flight each fetch again, one after another."""
    fetches = 0

    async def slow_fetch() -> list[dict[str, Any]]:
        nonlocal fetches
        fetches += 1
        await asyncio.sleep(0.05)
        return []

    keys = RefreshingKeySet("idp", slow_fetch, max_age=300, refresh_interval=30)
    await asyncio.gather(*(keys.key("k") for _ in range(10)))
    assert fetches == 1  # found: 2 (the first waiter fetches again after the first fetch)


async def test_an_unparseable_jwk_is_skipped_not_fatal() -> None:
    """import_signing_keys catches JoseError/ValueError/TypeError, but joserfc raises a bare
    KeyError for an unknown EC curve; the refresh then raises out of key()."""

    async def fetch() -> list[dict[str, Any]]:
        return [{"kty": "EC", "kid": "odd", "crv": "P-256K", "x": "AA", "y": "AA"}]

    keys = RefreshingKeySet("idp", fetch, max_age=300, refresh_interval=30)
    assert await keys.key("other") is None


async def test_an_unparseable_jwk_from_an_identity_provider_is_not_a_500(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The same KeyError over HTTP: one odd key in a provider's JWKS (here an EC key on a
    curve joserfc does not know) turns every request with that provider's token into a 500,
    although keysets.py promises a failed refresh keeps the keys already known."""
    from joserfc.jwk import RSAKey
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tests.fixtures.factories import add_member
    from tests.fixtures.server import running_app
    from tests.hub.test_external_issuer import IdentityProvider, policy

    async with session_factory() as session:
        member = await add_member(session, "Alpha Telecom")
        await session.commit()
    idp = IdentityProvider()
    idp.rotate()

    async def certs(request: Request) -> JSONResponse:
        good = {**idp.keys[0].as_dict(private=False), "use": "sig", "alg": "RS256"}
        odd = {"kty": "EC", "kid": "odd", "use": "sig", "crv": "P-256K", "x": "AA", "y": "AA"}
        return JSONResponse({"keys": [good, odd]})

    app = Starlette(routes=[Route("/realms/p2c/protocol/openid-connect/certs", certs)])
    async with running_app(app) as base:
        idp.base = base
        settings = oauth_settings(database_url, external_issuers=[policy(idp, token_types=["JWT"])])
        token = idp.token(idp.keys[0], str(member.id))
        assert isinstance(idp.keys[0], RSAKey)
        async with running_hub(settings) as hub, httpx.AsyncClient(base_url=hub) as http:
            response = await bearer(http, token)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.json()


@pytest.mark.parametrize("member", ["99999999999", "\u00b2"])
async def test_an_identity_providers_odd_member_claim_is_refused_not_500(
    database_url: str, member: str
) -> None:
    """Keycloak's p2c_member is a string mapper (often a user attribute). A number beyond
    PostgreSQL's integer makes the member lookup fail (500 on PostgreSQL); a Unicode digit
    that int() cannot read is a 500 on both backends."""
    from tests.hub.test_external_issuer import identity_provider, policy

    async with identity_provider() as idp:
        settings = oauth_settings(database_url, external_issuers=[policy(idp, token_types=["JWT"])])
        async with running_hub(settings) as base, httpx.AsyncClient(base_url=base) as http:
            response = await bearer(http, idp.token(idp.keys[0], member))
    assert_unauthenticated(response)


@pytest.mark.parametrize("path", ["/oauth/introspect", "/oauth/revoke"])
async def test_an_unknown_token_type_hint_is_not_a_401_without_a_challenge(
    database_url: str, clients: Clients, path: str
) -> None:
    """authlib's UnsupportedTokenTypeError is a ForbiddenError: status 401, and no
    WWW-Authenticate (RFC 7235 requires one on 401; RFC 6749 5.2 errors other than
    invalid_client are 400)."""
    async with hub_http(oauth_settings(database_url)) as http:
        response = await http.post(
            path, data={"token": "x", "token_type_hint": "id_token"}, auth=basic(clients.partner)
        )
    assert response.status_code != 401 or "www-authenticate" in response.headers, (
        response.status_code,
        response.text,
        dict(response.headers),
    )


# --- 5. the visibility rule -----------------------------------------------------------

ORGANISATION = """
query($id: ID!) {
  node(id: $id) {
    ... on Organisation {
      pledges(first: 10) { totalCount edges { node { title } } }
      endorsements { status pledge { title } }
    }
  }
}
"""


async def _graph_with_a_declined_draft(
    session_factory: async_sessionmaker[AsyncSession],
) -> tuple[Any, dict[str, Any]]:
    """The shared test graph, plus a draft of Alpha's that Gamma was invited to and declined,
    and clients for Gamma (connector), Alpha (partner) and the secretariat."""
    from hub.auth.clients import create_client
    from hub.auth.scopes import ClientKind
    from hub.endorsements.models import Role
    from hub.endorsements.service import invite, respond
    from hub.keys.service import ensure_token_key
    from hub.types import utcnow
    from tests.fixtures.oauth import VAULT
    from tests.schema.graph_data import build_graph

    graph = await build_graph(session_factory)
    async with session_factory() as session:
        alpha = await session.get_one(Organisation, graph.members["alpha"])
        draft = await add_pledge(session, alpha, title="Alpha's invite-only draft")
        asked = await invite(
            session, draft.id, graph.members["gamma"], [Role.ENDORSER],
            invited_by_id=alpha.id,
        )  # fmt: skip
        await respond(session, asked.id, accept=False)
        await ensure_token_key(session, VAULT, utcnow())
        made = {
            "gamma": await create_client(
                session, name="g", kind=ClientKind.CONNECTOR, scopes=["pledges:write"],
                member=str(graph.members["gamma"]), now=utcnow(),
            ),
            "alpha": await create_client(
                session, name="a", kind=ClientKind.PARTNER, scopes=["pledges:write"],
                member=str(graph.members["alpha"]), now=utcnow(),
            ),
            "secretariat": await create_client(
                session, name="s", kind=ClientKind.SECRETARIAT, scopes=["pledges:publish"],
                member=None, now=utcnow(),
            ),
        }  # fmt: skip
        await session.commit()
    return graph, made


async def test_a_members_declined_invitation_to_a_draft_does_not_break_its_queries(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """endorsement_visible shows a member its own endorsements whatever their status, but
    pledge_visible only shows pledges it is INVITED to or ACCEPTED: the declined endorsement
    is listed, its pledge field raises LookupError (an internal error), and the
    organisation's pledges connection counts a pledge it then drops."""
    from tests.schema.http import gid

    graph, made = await _graph_with_a_declined_draft(session_factory)
    async with hub_http(oauth_settings(database_url)) as http:
        token = (await get_token(http, made["gamma"]))["access_token"]
        response = await http.post(
            "/graphql",
            json={"query": ORGANISATION,
                  "variables": {"id": gid("Organisation", graph.members["gamma"])}},
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
    body = response.json()
    assert "errors" not in body, body
    pledges = body["data"]["node"]["pledges"]
    assert pledges["totalCount"] == len(pledges["edges"]), pledges


STATS = """
{ pledgeStats(groupBy: FOCUS_AREA, filter: {text: "Fibre"}) { total { pledgeCount memberCount } } }
"""


async def test_member_count_counts_accepted_endorsements_whoever_asks(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """memberCount is documented as 'distinct organisations with an accepted endorsement'.
    'Fibre for Bhutan schools' has Alpha (lead) and Beta accepted, Gamma declined, Delta
    invited: 2 for everyone. The lead partner and the secretariat get 4, because the stats
    use endorsement_visible (what one may *see*) as 'endorses'."""
    _, made = await _graph_with_a_declined_draft(session_factory)
    counts: dict[str, int] = {}
    async with hub_http(oauth_settings(database_url)) as http:
        for name in ("public", "alpha", "secretariat"):
            headers = {}
            if name != "public":
                token = (await get_token(http, made[name]))["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
            body = (await http.post("/graphql", json={"query": STATS}, headers=headers)).json()
            assert body["data"]["pledgeStats"]["total"]["pledgeCount"] == 1, body
            counts[name] = body["data"]["pledgeStats"]["total"]["memberCount"]
    assert counts == {"public": 2, "alpha": 2, "secretariat": 2}


async def test_the_members_filter_means_endorsed_whoever_asks(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """filter.members is documented 'Endorsed (led included) by any of these organisations'.
    For the secretariat it also matches pledges the organisation declined or was only
    invited to."""
    from tests.schema.http import gid

    graph, made = await _graph_with_a_declined_draft(session_factory)
    query = """query($m: [ID!]) { pledges(first: 20, filter: {members: $m}) {
        edges { node { title } } } }"""
    async with hub_http(oauth_settings(database_url)) as http:
        token = (await get_token(http, made["secretariat"]))["access_token"]
        body = (
            await http.post(
                "/graphql",
                json={"query": query,
                      "variables": {"m": [gid("Organisation", graph.members["delta"])]}},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()  # fmt: skip
    titles = [e["node"]["title"] for e in body["data"]["pledges"]["edges"]]
    assert titles == [], titles  # Delta NGO endorses nothing; it was only invited to p1


ODD_REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("empty body", {"content": b"", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("no content type", {"content": b"grant_type=client_credentials"}),
    ("percent junk", {"content": b"grant_type=%ZZ&a=%", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("latin-1 body", {"content": b"grant_type=\xe9", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("many fields", {"content": "&".join(f"f{i}=1" for i in range(40)).encode(), "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("basic not base64", {"data": {"grant_type": "client_credentials", "token": "x"}, "headers": {"Authorization": "Basic !!!"}}),
    ("basic not utf-8", {"data": {"grant_type": "client_credentials", "token": "x"}, "headers": {"Authorization": "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode()}}),
    ("basic no colon", {"data": {"grant_type": "client_credentials", "token": "x"}, "headers": {"Authorization": "Basic " + base64.b64encode(b"p2c-x").decode()}}),
    ("basic empty", {"data": {"grant_type": "client_credentials", "token": "x"}, "headers": {"Authorization": "Basic ="}}),
    ("basic percent", {"data": {"grant_type": "client_credentials", "token": "x"}, "headers": {"Authorization": "Basic " + base64.b64encode(b"%ZZ:%").decode()}}),
    ("bearer at token endpoint", {"data": {"grant_type": "client_credentials", "token": "x"}, "headers": {"Authorization": "Bearer x"}}),
    ("huge client id", {"data": {"grant_type": "client_credentials", "token": "x", "client_id": "c" * 60000, "client_secret": "s"}}),
    ("unicode scope", {"data": {"grant_type": "client_credentials", "scope": "\u00e9\u4e2d"}}),
]  # fmt: skip


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
async def test_odd_requests_to_the_oauth_endpoints_never_answer_500(
    database_url: str, clients: Clients, path: str
) -> None:
    statuses: dict[str, int] = {}
    async with hub_http(oauth_settings(database_url)) as http:
        for name, request in ODD_REQUESTS:
            statuses[name] = (await http.post(path, **request)).status_code
    failed = {name: status for name, status in statuses.items() if status >= 500}
    assert failed == {}, failed


async def test_a_typ_with_a_line_break_does_not_reach_the_response_headers(
    database_url: str,
) -> None:
    """The typ refusal message is not repr()'d: an unsigned token naming the hub as issuer
    with a typ containing CR LF puts a line break into WWW-Authenticate (before any
    signature check)."""
    from tests.fixtures.oauth import ISSUER

    header = b64(json.dumps({"alg": "RS256", "typ": "JWT\r\nX-Injected: yes", "kid": "k"}).encode())
    payload = b64(json.dumps({"iss": ISSUER}).encode())
    token = f"{header}.{payload}.{b64(b'x')}"
    async with hub_http(oauth_settings(database_url)) as http:
        response = await bearer(http, token)
    assert "x-injected" not in response.headers, dict(response.headers)
    assert_unauthenticated(response)
    assert "\r" not in response.headers["www-authenticate"]
    assert "\n" not in response.headers["www-authenticate"]


async def test_pledges_endorsed_counts_endorsements_not_invitations(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """Organisation.totals ('What it stands behind, counting public pledges only'): for the
    secretariat, Delta NGO -- only ever *invited* to one pledge -- 'endorses' 1 pledge, and
    Gamma's declined invitations count as endorsements."""
    from tests.schema.http import gid

    graph, made = await _graph_with_a_declined_draft(session_factory)
    query = """query($id: ID!) { node(id: $id) { ... on Organisation {
        totals { pledgesEndorsed } } } }"""
    found: dict[str, int] = {}
    async with hub_http(oauth_settings(database_url)) as http:
        token = (await get_token(http, made["secretariat"]))["access_token"]
        for name in ("delta", "gamma"):
            body = (
                await http.post(
                    "/graphql",
                    json={"query": query,
                          "variables": {"id": gid("Organisation", graph.members[name])}},
                    headers={"Authorization": f"Bearer {token}"},
                )
            ).json()  # fmt: skip
            found[name] = body["data"]["node"]["totals"]["pledgesEndorsed"]
    # Delta: no accepted endorsement. Gamma: leads 'Submitted plan', 'Withdrawn before
    # publication', 'Digital skills in Nepal' (3 LEAD endorsements); declined p1 and the draft.
    assert found == {"delta": 0, "gamma": 3}, found
