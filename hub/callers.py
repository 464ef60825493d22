"""Who is calling, for budgets and bounds: the client, or else its IP address (trusting proxies
only if listed)."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from typing import Any

from hub.auth.principal import Principal

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> list[Network]:
    """Networks from addresses or CIDR blocks (``10.0.0.5``, ``10.0.0.0/8``)."""
    return [ipaddress.ip_network(value.strip(), strict=False) for value in values]


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def _address(hop: str) -> str | None:
    """The IP address in an ``X-Forwarded-For`` entry (a port or brackets removed)."""
    text = hop.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The caller's address: the peer's, or, when the peer is a trusted proxy, the nearest
    address in ``X-Forwarded-For`` that is not itself a trusted proxy. An entry that is not an
    address ends the walk: the address to its right (the last one a trusted proxy vouched
    for) is the caller."""
    address = peer or "unknown"
    if not forwarded_for or not _trusted(address, proxies):
        return address
    for hop in reversed(forwarded_for.split(",")):
        found = _address(hop)
        if found is None:
            return address
        if not _trusted(found, proxies):
            return found
        address = found
    return address


def request_address(request: Any, proxies: Sequence[Network]) -> str:
    """The address of a Starlette request's caller, as ``client_address`` decides it."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), proxies)


def caller_key(principal: Principal, address: str) -> str:
    """What budgets and subscription bounds count by: the client, or else the address (a
    digest keeps long issuer URLs within the key's size)."""
    if principal.anonymous:
        return address
    who = f"{principal.issuer} {principal.client_id}".encode()
    return f"client:{hashlib.sha256(who).hexdigest()[:32]}"
