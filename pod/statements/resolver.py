"""Finding an issuer's keys for a server that verifies statements (VC Data Integrity 1.0 §4.2
"retrieve verification method"; Controlled Identifiers 1.0 §2).

A document of this server (its URL begins with the base URL) is read from the store, as an
anonymous visitor could read it, every time: cheap, never on the network, and a key removed
from a profile stops verifying at once. Any other document comes through the caller's guarded
fetcher and is kept, parsed, for :data:`TTL` seconds in a cache of at most :data:`SIZE`
documents (least recently used dropped first), so a burst of statements by one issuer costs
one fetch. A Turtle WebID profile becomes a controller document
(:func:`~apps.sdk.statements.profiles.controller_document`); JSON documents are taken as they are.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from apps.sdk.statements.profiles import DOCUMENT_TYPES, ProfileError, controller_of

__all__ = ["DOCUMENT_TYPES", "SIZE", "STATUS_LIST_TYPES", "TTL", "Document", "Fetch",
           "KeyResolver", "NotResolved", "ReadLocal"]

#: what a status list credential is fetched as: JSON-LD as its issuer signed it, never
#: Turtle (a Solid server would convert it, and the proof covers the JSON-LD document)
STATUS_LIST_TYPES = ("application/ld+json", "application/json")
TTL = 300.0  # also the Bitstring Status List's default ttl (5 minutes) for status lists
SIZE = 1024

Document = tuple[str, str, bytes]
"""A fetched document: the URL it came from (after redirects), its media type, its body."""
ReadLocal = Callable[[str], Awaitable[Document | None]]
"""Reads a document of this server as an anonymous visitor may (``None``: not public or none)."""
Fetch = Callable[[str], Awaitable[Document]]
"""Fetches a document of another server (guarded); raises with a reason fit for the client."""


class NotResolved(LookupError):
    """An issuer's document could not be had; the message says why, in words for the client."""


class KeyResolver:
    """``await resolver(url)``: the controller document at ``url``, for
    :func:`apps.sdk.statements.credentials.verify`'s ``resolve``."""

    def __init__(self, base_url: str, local: ReadLocal, fetch: Fetch, *, ttl: float = TTL,
                 size: int = SIZE):
        self.base_url, self._local, self._fetch = base_url, local, fetch
        self.ttl, self.size = ttl, size
        self._cache: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    async def __call__(self, url: str) -> dict[str, Any]:
        if url.startswith(self.base_url):
            found = await self._local(url)
            if found is None:
                raise NotResolved("it is not a public document of this server")
            return _parsed(found)
        now = time.monotonic()
        hit = self._cache.get(url)
        if hit is not None and hit[0] > now:
            self._cache.move_to_end(url)
            return hit[1]
        doc = _parsed(await self._fetch(url))
        self._cache[url] = (now + self.ttl, doc)
        self._cache.move_to_end(url)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return doc


def _parsed(found: Document) -> dict[str, Any]:
    try:
        return controller_of(*found)
    except ProfileError as exc:
        raise NotResolved(f"it cannot be read: {exc}") from None
