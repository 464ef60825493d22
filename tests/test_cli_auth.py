"""Clients and keys at the console, end to end: made with ``p2c-hub``, used against
``p2c-hub serve``."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx

from hub.db import create_engine, create_session_factory
from tests.fixtures.factories import add_member
from tests.test_cli import free_port, hub, hub_env, serving

GRANT = {"grant_type": "client_credentials"}
QUERY = {"query": "{ pledges(first: 1) { totalCount } }"}


def prepared(tmp_path: Path) -> tuple[dict[str, str], int]:
    """A migrated SQLite hub with one member; the member's id."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    env = hub_env(port=str(free_port()), database_url=url)
    result = hub(env, "migrate")
    assert result.returncode == 0, result.stderr

    async def add() -> int:
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as session:
                member = await add_member(session, "Alpha Telecom")
                await session.commit()
                return member.id
        finally:
            await engine.dispose()

    return env, asyncio.run(add())


def test_clients_and_keys_from_the_console_to_a_token(tmp_path: Path) -> None:
    env, member_id = prepared(tmp_path)
    no_key = hub(env, "keys", "init")
    assert no_key.returncode == 1
    assert "the hub has no key-encryption key: set HUB_KEY_ENCRYPTION_KEYS" in no_key.stderr
    generated = hub(env, "keys", "generate-encryption-key")
    env["HUB_KEY_ENCRYPTION_KEYS"] = generated.stdout.strip()
    assert "no signing keys" in hub(env, "keys", "list").stderr
    first = hub(env, "keys", "init")
    assert re.fullmatch(
        r"signing key \S+ made; it signs from now\n"
        r"audit key p2c-hub/audit\+[0-9a-f]{8} made; it signs tree heads from now\n",
        first.stdout,
    ), first
    twice = hub(env, "keys", "init").stdout
    assert twice.count("in service already") == 2, twice

    made = hub(
        env, "clients", "create", "--kind", "PARTNER", "--member", str(member_id),
        "--scopes", "pledges:write progress:write", "--name", "Alpha ERP", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    partner = json.loads(made.stdout)
    assert partner["scopes"] == "pledges:write progress:write"
    assert partner["member_id"] == member_id
    assert partner["client_secret"].startswith("p2cs_")
    auditor = hub(
        env, "clients", "create", "--kind", "AUDITOR", "--scopes", "audit:read",
        "--name", "Audit firm",
    )  # fmt: skip
    assert "client_secret: p2cs_" in auditor.stdout
    assert "the hub keeps only its digest" in auditor.stderr

    listed = hub(env, "clients", "list")
    assert partner["client_id"] in listed.stdout
    assert "Audit firm" in listed.stdout
    assert "p2cs_" not in listed.stdout
    as_json = json.loads(hub(env, "clients", "list", "--json").stdout)
    assert [c["name"] for c in as_json] == ["Alpha ERP", "Audit firm"]
    assert all("client_secret" not in c for c in as_json)

    with serving(env, tmp_path / "serve.log") as base:
        auth = (partner["client_id"], partner["client_secret"])
        token = httpx.post(f"{base}/oauth/token", data=GRANT, auth=auth).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert "errors" not in httpx.post(f"{base}/graphql", json=QUERY, headers=bearer).json()

        rotated = json.loads(
            hub(env, "clients", "rotate-secret", partner["client_id"], "--json").stdout
        )
        old = httpx.post(f"{base}/oauth/token", data=GRANT, auth=auth)
        new = httpx.post(
            f"{base}/oauth/token", data=GRANT, auth=(partner["client_id"], rotated["client_secret"])
        )
        assert (old.status_code, new.status_code) == (401, 200)

        next_key = hub(env, "keys", "rotate")
        assert re.fullmatch(r"signing key \S+ published; it signs from \S+\n", next_key.stdout)
        states = hub(env, "keys", "list").stdout
        assert "signing" in states
        assert "next" in states
        assert len(httpx.get(f"{base}/.well-known/jwks.json").json()["keys"]) == 2
        first_kid = first.stdout.split()[2]
        retired = hub(env, "keys", "retire", first_kid)
        assert retired.stdout == f"signing key {first_kid} retired\n"
        assert "no key signs now: run p2c-hub keys rotate --now" in retired.stderr
        assert hub(env, "keys", "rotate", "--now").returncode == 0
        newer = {**env, "HUB_KEY_ENCRYPTION_KEYS": f"{generated.stdout.strip()}"}
        newer["HUB_KEY_ENCRYPTION_KEYS"] = (
            hub(env, "keys", "generate-encryption-key").stdout.strip()
            + ","
            + env["HUB_KEY_ENCRYPTION_KEYS"]
        )
        assert (
            hub(newer, "keys", "reseal").stdout
            == "4 keys sealed with the first key-encryption key\n"
        )

        revoked = hub(env, "clients", "revoke", partner["client_id"])
        assert revoked.stdout == f"revoked {partner['client_id']} (Alpha ERP)\n"
        refused = httpx.post(f"{base}/graphql", json=QUERY, headers=bearer).json()
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    again = hub(env, "clients", "revoke", partner["client_id"])
    assert (again.returncode, again.stderr.strip()) == (
        1,
        f"Error: client {partner['client_id']} was revoked already",
    )
    assert "Alpha ERP" not in hub(env, "clients", "list").stdout
    assert "REVOKED" in hub(env, "clients", "list", "--all").stdout


def test_clients_are_refused_what_their_kind_may_not_have(tmp_path: Path) -> None:
    env, member_id = prepared(tmp_path)
    cases = {
        ("--kind", "PARTNER", "--scopes", "pledges:write"): "a PARTNER client acts for a member",
        ("--kind", "AUDITOR", "--scopes", "audit:read", "--member", str(member_id)):
            "a AUDITOR client acts for no member",
        ("--kind", "PARTNER", "--scopes", "audit:read", "--member", str(member_id)):
            "a PARTNER client may not hold audit:read",
        ("--kind", "PARTNER", "--scopes", "pledges:write", "--member", "XM-NOPE"):
            "no organisation has id or IATI identifier 'XM-NOPE'",
        ("--kind", "PARTNER", "--scopes", "pledges:write", "--member", "\u00b2"):
            "no organisation has id or IATI identifier '\u00b2'",
        ("--kind", "PARTNER", "--scopes", "pledges:write", "--member", "99999999999"):
            "no organisation has id or IATI identifier '99999999999'",
        ("--kind", "CONNECTOR", "--scopes", "pledges:write", "--member", "999999"):
            "no organisation has id or IATI identifier '999999'",
    }  # fmt: skip
    for arguments, message in cases.items():
        result = hub(env, "clients", "create", "--name", "x", *arguments)
        assert result.returncode == 1, result
        assert message in result.stderr, result.stderr
    bad_key = hub({**env, "HUB_KEY_ENCRYPTION_KEYS": "not-a-key"}, "keys", "list")
    assert bad_key.returncode == 2
    assert "HUB_KEY_ENCRYPTION_KEYS" in bad_key.stderr
    assert "Traceback" not in bad_key.stderr
    no_issuer = hub({**env, "HUB_HOST": "0.0.0.0"}, "serve")
    assert no_issuer.returncode == 2
    assert "HUB_PUBLIC_URL must be set when the hub binds to 0.0.0.0" in no_issuer.stderr
