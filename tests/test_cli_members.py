"""Members at the console: ``p2c-hub members add|approve|update`` through the same commands
and checks as the GraphQL mutations."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import free_port, hub, hub_env


def test_the_secretariat_adds_approves_and_corrects_a_member(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    env = hub_env(port=str(free_port()), database_url=url)
    assert hub(env, "migrate").returncode == 0
    assert hub(env, "countries", "load").returncode == 0

    added = hub(
        env, "members", "add", "--name", "Delta Youth Network", "--type", "YOUTH",
        "--country", "NPL", "--iati", "NP-SWC-1234",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    organisation_id = added.stdout.split()[0]
    assert added.stdout.strip().endswith("YOUTH  NONE")

    approved = hub(env, "members", "approve", "NP-SWC-1234")
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.strip() == f"{organisation_id}  Delta Youth Network  YOUTH  MEMBER"
    twice = hub(env, "members", "approve", organisation_id)
    assert twice.returncode == 1
    assert "a MEMBER organisation cannot be approved" in twice.stderr

    renamed = hub(env, "members", "update", organisation_id, "--name", "Delta Youth")
    assert renamed.returncode == 0, renamed.stderr
    assert renamed.stdout.strip() == f"{organisation_id}  Delta Youth  YOUTH  MEMBER"

    refusals = [
        (("members", "update", organisation_id, "--website", "ftp://delta"), "http(s)"),
        (
            ("members", "update", organisation_id, "--country", "ZZZ"),
            "unknown ISO 3166-1 alpha-3 country code(s): ZZZ",
        ),
        (("members", "approve", "999999"), "no organisation has id or IATI identifier '999999'"),
        (("members", "add", "--name", " ", "--type", "MEDIA"), "needs a name"),
        (
            ("members", "add", "--name", "Copy", "--type", "MEDIA", "--iati", "NP-SWC-1234"),
            "already exists",
        ),
    ]
    for arguments, said in refusals:
        result = hub(env, *arguments)
        assert result.returncode == 1, (arguments, result.stdout)
        assert said in result.stderr, (arguments, result.stderr)
        assert "Traceback" not in result.stderr

    quick = hub(env, "members", "add", "--name", "Echo Media", "--type", "MEDIA", "--approve")
    assert quick.returncode == 0, quick.stderr
    assert quick.stdout.strip().endswith("Echo Media  MEDIA  MEMBER")
