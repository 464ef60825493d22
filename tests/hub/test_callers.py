"""The caller's address comes from X-Forwarded-For only through trusted proxies."""

from __future__ import annotations

import pytest

from hub.callers import client_address, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "192.0.2.7"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        ("10.1.2.3", "198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "1.1.1.1, 198.51.100.1, 192.0.2.7", "198.51.100.1"),
        ("10.1.2.3", "10.9.9.9", "10.9.9.9"),
        ("10.1.2.3", "", "10.1.2.3"),
        (None, "198.51.100.1", "unknown"),
        ("10.1.2.3", "198.51.100.1:5555", "198.51.100.1"),
        ("10.1.2.3", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.1.2.3", "1.1.1.1, junk, 198.51.100.1", "198.51.100.1"),
        ("10.1.2.3", "198.51.100.1, not-an-address", "10.1.2.3"),
    ],
)
def test_forwarded_addresses_count_only_behind_trusted_proxies(
    peer: str | None, forwarded: str | None, expected: str
) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected
