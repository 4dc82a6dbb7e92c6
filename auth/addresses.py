"""The address a request comes from, for the per-address limits (sign-in, client registration).

Without the ``trusted_proxies`` setting it is the connection's peer address, and forwarding
headers are ignored: anyone can send them. When the peer is one of the trusted proxies, the
client is read from ``X-Forwarded-For`` right to left — each proxy appends the address it was
connected from — skipping trusted proxies: the first address that is not one is the client's
(if every hop is trusted, the leftmost). The hop after a trusted proxy was written by that proxy,
so what a client puts in the header itself is never believed.

Only ``X-Forwarded-For`` is read: every common proxy (nginx, Apache, HAProxy, Caddy, Traefik,
Envoy) sets it. RFC 7239 ``Forwarded`` is ignored on purpose: a proxy that sets one header
passes the other through from the client untouched, so believing both would let a client
choose its own address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _ip(value: str | None) -> IP | None:
    """An address written bare, ``v4:port`` or ``[v6]:port``; ``None`` when it is none."""
    value = (value or "").strip()
    if value.startswith("["):
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return mapped or ip


def forwarded_client(peer: str | None, forwarded_for: list[str],
                     trusted: tuple[Network, ...]) -> str | None:
    """The client address of a connection from ``peer`` carrying ``X-Forwarded-For`` header
    values ``forwarded_for``, believing only the proxies in ``trusted``."""
    address = _ip(peer)
    if address is None or not any(address in net for net in trusted):
        return peer
    found = str(address)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:  # "unknown" or garbled, written by the proxy just found: stop there
            return found
        found = str(ip)
        if not any(ip in net for net in trusted):
            return found
    return found


def client_address(peer: str | None, forwarded_for: list[str],
                   proxies: tuple[str, ...]) -> str | None:
    """The address a request from ``peer`` comes from, given its ``X-Forwarded-For`` header
    values and the ``trusted_proxies`` setting (see the module docstring)."""
    if not proxies:
        return peer
    return forwarded_client(peer, forwarded_for, _networks(proxies))
