"""Statements checked as they are written: a document stored in a container registered for
signed statements must carry a Data Integrity proof that verifies (VC Data Integrity 1.0 §4.3).

The costly, pure part — JSON-LD expansion and RDFC-1.0 canonicalisation (pyld) — runs in a
worker process under :data:`BUDGET` (:func:`~apps.sdk.statements.credentials.prepare`); the keys
are then resolved on the event loop through a :class:`~pod.statements.resolver.KeyResolver`,
and the signatures and validity period checked. A statement that does not verify is refused
with 422 and the verdict's reasons. All of it happens before the write transaction starts.

A write is checked without the statement's status (a badge its issuer revoked may still be
kept); :meth:`StatementChecker.verdict` with ``check_status`` — for showing statements already
stored — also checks its Bitstring Status List entries: the list credential is fetched through
the status resolver (the server's guarded fetcher) and verified in a worker process too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from apps.sdk.statements.credentials import (
    Prepared,
    Resolver,
    Verdict,
    conclude,
    prepare,
    prepare_json,
)
from pod.errors import PodError, UnverifiedStatement

T = TypeVar("T")


class Workers(Protocol):
    """What runs a costly job under a time budget (:class:`pod.resources.workers.Workers`)."""

    async def run(self, fn: Callable[..., T], *args: Any, budget: float, what: str) -> T: ...

BUDGET = 10.0
"""Seconds of work canonicalising one statement may take, in a worker process."""
LIST_TTL = 60.0
"""Seconds a status list credential's verdict is kept: a page of badges from one issuer
verifies their common list once, not once per badge."""
LIST_CACHE = 64
JSON_LD = "application/ld+json"
NOT_JSON_LD = ("a statement must be sent as JSON-LD (application/ld+json) with its proof: no "
               "other form carries one")


class StatementChecker:
    """Checks statements' proofs: :data:`job` in a worker, then :meth:`check_form` and
    :meth:`concluded` raise :class:`UnverifiedStatement` for one that does not verify;
    :meth:`verdict` says why. ``resolve`` finds issuers' keys, ``resolve_status`` fetches
    status list credentials (default ``resolve``)."""

    def __init__(self, workers: Workers, resolve: Resolver,
                 resolve_status: Resolver | None = None):
        self.workers, self.resolve = workers, resolve
        self.resolve_status = resolve_status or resolve
        self._lists: OrderedDict[str, tuple[float, asyncio.Future[Verdict]]] = OrderedDict()

    #: the pure part of a check, for a worker process (the resource service runs it in one
    #: job with a write's other checks, then calls :meth:`check_form` and :meth:`concluded`)
    job = staticmethod(prepare_json)

    def check_form(self, media_type: str, where: str) -> None:
        """Refuse a statement that is not JSON-LD: no other form carries its proof."""
        if media_type != JSON_LD:
            raise _refused(where, [NOT_JSON_LD])

    async def concluded(self, prepared: object, where: str) -> None:
        """Finish the check of a statement :data:`job` prepared: its issuer's key as published
        now, its signature and validity period (not its status)."""
        if not isinstance(prepared, Prepared):
            raise TypeError("not a prepared statement check")
        verdict = await conclude(prepared, resolve=self.resolve)
        if not verdict.verified:
            raise _refused(where, verdict.reasons, issuer=verdict.issuer,
                           verificationMethod=verdict.verification_method)

    async def verdict(self, body: bytes, *, check_status: bool = False) -> Verdict:
        """The verdict on a JSON-LD statement now — its proof, its issuer's key as published
        now, its validity period by today's clock (for showing statements already stored);
        with ``check_status``, also whether its issuer revoked or suspended it
        (``Verdict.revoked``)."""
        prepared = await self.workers.run(prepare_json, body, budget=BUDGET,
                                          what="checking this statement's proof")
        return await conclude(prepared, resolve=self.resolve, check_status=check_status,
                              resolve_status=self.resolve_status,
                              verify_list=self._list_verdict)

    async def _list_verdict(self, listed: dict[str, Any]) -> Verdict:
        """The verdict on a status list credential, shared by every check of the same list
        document for :data:`LIST_TTL` seconds (those running at once wait for one job)."""
        key = hashlib.sha256(json.dumps(listed, sort_keys=True).encode()).hexdigest()
        now = time.monotonic()
        hit = self._lists.get(key)
        if hit is None or hit[0] <= now:
            hit = (now + LIST_TTL, asyncio.ensure_future(self._verify_list(listed)))
            self._lists[key] = hit
            while len(self._lists) > LIST_CACHE:
                self._lists.popitem(last=False)
        try:
            return await asyncio.shield(hit[1])
        except Exception:
            self._lists.pop(key, None)  # an unexpected failure is not kept
            raise

    async def _verify_list(self, listed: dict[str, Any]) -> Verdict:
        """The verdict on a status list credential, canonicalised in a worker process."""
        try:
            prepared = await self.workers.run(prepare, listed, budget=BUDGET,
                                              what="checking a status list's proof")
        except PodError as error:  # over its budget: the status is unknown, said in words
            return Verdict(False, [error.detail])
        return await conclude(prepared, resolve=self.resolve)


def _refused(where: str, reasons: list[str], **extra: object) -> UnverifiedStatement:
    refused = UnverifiedStatement(
        f"{where} is registered for signed statements, and this one does not verify: "
        + "; ".join(reasons), reasons=reasons)
    refused.extra.update(extra)  # problem members (RFC 9457 §3.2), never the headers
    return refused
