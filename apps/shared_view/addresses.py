"""Checking the address a visitor names before the app fetches from it: an http(s) URL whose
host resolves only to public addresses (unless the app runs with ``--allow-private-fetch``,
as the tests on loopback do). The check is made on the name as it resolves now; a DNS answer
that changes between the check and the fetch is not caught (README, "Not yet")."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class AddressError(ValueError):
    """An address the app will not fetch from; the message says why, for the visitor."""


async def checked_url(url: str, *, allow_private: bool) -> str:
    """``url`` when it may be fetched; :class:`AddressError` otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise AddressError("give a WebID or a server address starting with https://")
    if allow_private:
        return url.strip()
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
            type=socket.SOCK_STREAM)
    except OSError:
        raise AddressError(f"{parts.hostname} cannot be found") from None
    for *_, sockaddr in found:
        ip = ipaddress.ip_address(sockaddr[0])
        if not ip.is_global:
            raise AddressError(f"{parts.hostname} is not on the public internet")
    return url.strip()
