"""Fetching other servers' documents safely: WebID profiles, OIDC discovery, JWKS, groups.

Solid-OIDC §8 makes a resource server read documents named by its callers, so every fetch
here is bounded: http(s) only, at most :data:`MAX_REDIRECTS` redirects (each re-checked), a
:data:`TIMEOUT` for the whole exchange, a streamed :data:`MAX_BYTES` limit, an expected media
type, and an address guard — the host is resolved and private, loopback, link-local,
multicast, reserved and unspecified addresses are refused (unless the operator sets
``allow_private_fetch``); the connection goes to the address that was checked, so a second DNS
answer cannot swap it. Answers are cached for :data:`DOCUMENT_TTL`, or per ``Cache-Control``
within bounds when the caller asks (JWKS).

:meth:`Fetcher.post` sends small notifications (signed webhook events, ``auth/webhooks.py``)
under the same guard: checked address, one timeout, no redirects, at most
:data:`POST_READ_BYTES` of the answer read.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

TIMEOUT = 5.0
MAX_BYTES = 512 * 1024
MAX_REDIRECTS = 3
DOCUMENT_TTL = 300.0
MIN_TTL, MAX_TTL = 30.0, 3600.0
CACHE_SIZE = 1024
REDIRECTS = (301, 302, 303, 307, 308)
POST_READ_BYTES = 4096
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\b", re.IGNORECASE)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A document could not be fetched. The message says why, with addresses and errors, for
    the server's log: callers show clients a generic reason instead."""


class FetchRefused(FetchError):
    """The URL or its address is one this server never contacts; retrying will not help."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched document: the URL it finally came from, its media type and body."""

    url: str
    media_type: str
    body: bytes
    fetched_at: float
    expires: float


def is_public(ip: IpAddress) -> bool:
    """Whether an address is a public unicast one (IANA special-purpose registries)."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local
                                 or ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _ttl(cache_control: str | None) -> float:
    """RFC 9111 §5.2.2.1 ``max-age``, clamped to [MIN_TTL, MAX_TTL]; ``no-store`` → MIN_TTL."""
    if not cache_control:
        return DOCUMENT_TTL
    if _NO_CACHE.search(cache_control):
        return MIN_TTL
    match = _MAX_AGE.search(cache_control)
    if match is None:
        return DOCUMENT_TTL
    return min(max(float(match[1]), MIN_TTL), MAX_TTL)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context (certificate verification on) for every fetch."""
    return httpx.create_ssl_context()


class Fetcher:
    """GETs small documents from other servers, guarded and cached (one per process)."""

    def __init__(self, *, allow_private: bool = False, timeout: float = TIMEOUT,
                 max_bytes: int = MAX_BYTES):
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._cache: OrderedDict[tuple[str, str], Fetched] = OrderedDict()

    async def get(self, url: str, media_types: tuple[str, ...], *, cache_control: bool = False,
                  max_age: float | None = None) -> Fetched:
        """The document at ``url`` in one of ``media_types`` (the first is preferred).

        A cached answer younger than its TTL (and than ``max_age`` seconds, when given) is
        reused. With ``cache_control`` the TTL follows the response's ``Cache-Control``.
        Raises :class:`FetchError` with a readable reason.
        """
        now = time.monotonic()
        key = (url, " ".join(media_types))
        hit = self._cache.get(key)
        if hit is not None and hit.expires > now and (
                max_age is None or now - hit.fetched_at < max_age):
            self._cache.move_to_end(key)
            return hit
        try:
            async with asyncio.timeout(self.timeout):
                fetched = await self._follow(url, media_types, cache_control)
        except TimeoutError:
            raise FetchError(f"{url} did not answer within {self.timeout:g} s") from None
        self._cache[key] = fetched
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return fetched

    async def _follow(self, url: str, media_types: tuple[str, ...],
                      cache_control: bool) -> Fetched:
        accept = ", ".join(f"{t};q={1 - i / 10:.1f}" if i else t
                           for i, t in enumerate(media_types))
        for _ in range(MAX_REDIRECTS + 1):
            response, body = await self._get_once(url, accept)
            if response.status_code in REDIRECTS and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code != 200:
                raise FetchError(f"{url} answered {response.status_code}")
            media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type not in media_types:
                raise FetchError(f"{url} is {media_type or 'of no content type'}, not "
                                 f"{' or '.join(media_types)}")
            ttl = _ttl(response.headers.get("cache-control")) if cache_control else DOCUMENT_TTL
            now = time.monotonic()
            return Fetched(url, media_type, body, now, now + ttl)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects fetching {url}")

    async def post(self, url: str, body: bytes, content_type: str) -> int:
        """POST ``body`` to ``url`` under the same address guard as :meth:`get`; the status.

        Redirects are not followed (a 3xx is returned as is) and at most
        :data:`POST_READ_BYTES` of the answer are read. Raises :class:`FetchRefused` for a URL
        or address this server does not contact, :class:`FetchError` when the exchange fails.
        """
        try:
            async with asyncio.timeout(self.timeout):
                target, headers, extensions = await self._checked(url)
                headers["Content-Type"] = content_type
                async with httpx.AsyncClient(verify=_tls(), timeout=httpx.Timeout(self.timeout),
                                             trust_env=False, follow_redirects=False) as client, \
                        client.stream("POST", target, content=body, headers=headers,
                                      extensions=extensions) as response:
                    read = 0
                    async for chunk in response.aiter_bytes():
                        read += len(chunk)
                        if read >= POST_READ_BYTES:
                            break
                    return response.status_code
        except TimeoutError:
            raise FetchError(f"{url} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise FetchError(f"cannot post to {url}: {error.__class__.__name__} "
                             f"{error}".strip()) from None

    async def _checked(self, url: str) -> tuple[str, dict[str, str], dict[str, str]]:
        """The URL to connect to (the checked address), Host header and TLS SNI extension."""
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise FetchRefused(f"{url} has an invalid port") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
                or parts.password:
            raise FetchRefused(f"{url} is not an http(s) URL without credentials")
        host = parts.hostname
        port = port or (443 if parts.scheme == "https" else 80)
        address = await self._address(host, port)
        literal = f"[{address}]" if address.version == 6 else str(address)
        target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/",
                             parts.query, ""))
        headers = {"Host": parts.netloc.rpartition("@")[2]}
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return target, headers, extensions

    async def _get_once(self, url: str, accept: str) -> tuple[httpx.Response, bytes]:
        """One GET without following redirects, to the checked address, body size-limited."""
        target, headers, extensions = await self._checked(url)
        headers["Accept"] = accept
        timeout = httpx.Timeout(self.timeout)
        try:
            async with httpx.AsyncClient(verify=_tls(), timeout=timeout, trust_env=False,
                                         follow_redirects=False) as client, \
                    client.stream("GET", target, headers=headers,
                                  extensions=extensions) as response:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(f"{url} is larger than {self.max_bytes} bytes")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(f"{url} is larger than {self.max_bytes} bytes")
                    chunks.append(chunk)
                return response, b"".join(chunks)
        except httpx.HTTPError as error:
            raise FetchError(f"cannot fetch {url}: {error.__class__.__name__} "
                             f"{error}".strip()) from None

    async def _address(self, host: str, port: int) -> IpAddress:
        """The first resolved address of ``host``; FetchError if any is not allowed."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise FetchError(f"cannot resolve {host}: {error}") from None
        # IPv4 and IPv6 socket addresses start with the address as a str
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        if not addresses:
            raise FetchError(f"cannot resolve {host}")
        if not self.allow_private:
            for address in addresses:
                if not is_public(address):
                    raise FetchRefused(f"{host} resolves to the non-public address {address}, "
                                       "which this server does not fetch from "
                                       "(setting allow_private_fetch)")
        return addresses[0]

