"""Settings: read from HUB_ variables, validated before anything starts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from hub.settings import Settings


def test_defaults_serve_the_embedded_database_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HUB_DATABASE_URL", "HUB_HOST", "HUB_PORT", "HUB_FX_MAX_RATE_AGE_DAYS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///./p2c-hub.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.fx_max_rate_age == timedelta(days=45)
    assert settings.effective_migration_url == settings.database_url


def test_values_come_from_hub_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_PORT", "9001")
    monkeypatch.setenv("HUB_FX_MAX_RATE_AGE_DAYS", "10")
    monkeypatch.setenv("HUB_MIGRATION_DATABASE_URL", "postgresql+asyncpg://owner@db/p2c")
    settings = Settings()
    assert settings.port == 9001
    assert settings.fx_max_rate_age == timedelta(days=10)
    assert settings.effective_migration_url == "postgresql+asyncpg://owner@db/p2c"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("port", 0, "greater than or equal to 1"),
        ("fx_max_rate_age_days", 400, "less than or equal to 366"),
        ("database_url", "postgresql://x@db/p2c", "not postgresql"),
        ("database_url", "not a url", "is not a database URL"),
        ("log_level", "LOUD", "DEBUG"),
    ],
)
def test_bad_values_are_refused_with_the_reason(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings.model_validate({field: value})


def test_oauth_settings_name_the_issuer_and_refuse_what_would_break_tokens() -> None:
    assert Settings().issuer == "http://127.0.0.1:8000"
    assert Settings(port=9000).audience == "http://127.0.0.1:9000"
    public = Settings(public_url="https://hub.example.org/", token_audience="p2c-hub")
    assert (public.issuer, public.audience) == ("https://hub.example.org", "p2c-hub")
    for values, message in [
        ({"host": "0.0.0.0"}, "HUB_PUBLIC_URL must be set when the hub binds to 0.0.0.0"),
        ({"public_url": "http://hub.example.org"}, "must be an https URL"),
        ({"public_url": "https://example.org/hub"}, "must be a bare origin"),
        ({"key_encryption_keys": "short"}, "must be a Fernet key"),
        ({"access_token_lifetime_seconds": 7200}, "less than or equal to 3600"),
        (
            {"external_issuers": [{"issuer": "http://127.0.0.1:8000", "audience": "a",
                                   "jwks_url": "https://idp.example/certs"}]},
            "named more than once",
        ),
        (
            {"external_issuers": [{"issuer": "x", "audience": "a",
                                   "jwks_url": "http://idp.example/certs"}]},
            "must be an https URL",
        ),
        (
            {"external_issuers": [{"issuer": "x", "audience": "a", "algorithms": ["HS256"],
                                   "jwks_url": "https://idp.example/certs"}]},
            "Input should be 'RS256'",
        ),
    ]:  # fmt: skip
        with pytest.raises(ValidationError, match=message):
            Settings.model_validate(values)
