"""Finding an issuer's keys over HTTP, for :func:`apps.sdk.statements.verify` (VC Data
Integrity 1.0 §4.2 "retrieve verification method"; Controlled Identifiers 1.0 §2).

A WebID profile (Turtle) becomes a controller document, a JSON document is taken as it is
(:func:`~apps.sdk.statements.profiles.controller_of`, the server's reading too). Documents are
kept for ``ttl`` seconds, so verifying many statements of one issuer costs one request.
``did:key`` issuers need no resolver at all.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from apps.sdk.statements.profiles import DOCUMENT_TYPES, ProfileError, controller_of

if TYPE_CHECKING:
    from apps.sdk.client import PodClient


class HttpResolver:
    """``await resolver(url)``: the controller document at ``url``, read through ``client``
    (anonymous reads do: profiles are public). Pass it as ``verify(..., resolve=resolver)``."""

    def __init__(self, client: PodClient, *, ttl: float = 300.0) -> None:
        self.client, self.ttl = client, ttl
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    async def __call__(self, url: str) -> dict[str, Any]:
        document = url.split("#", 1)[0]
        hit = self._cache.get(document)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        got = await self.client.get(document, accept=", ".join(DOCUMENT_TYPES))
        try:
            found = controller_of(document, got.content_type, got.body)
        except ProfileError as exc:
            raise ValueError(str(exc)) from None
        self._cache[document] = (time.monotonic() + self.ttl, found)
        return found
