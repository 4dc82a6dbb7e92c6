"""Signed notifications to apps: when a pod owner revokes an app's access grant, the app is told
so that it deletes what it cached.

The event is a JWT (RFC 7519) in JWS compact serialisation (RFC 7515 §7.1), ES256, signed with
the identity provider's key (:class:`~auth.oidc.tokens.SigningKeys`), whose public keys are at
the issuer's ``jwks_uri`` (``{issuer}.oidc/jwks``). The header is explicitly typed
``typ: grant-event+jwt`` (RFC 8725 §3.11) so it cannot be confused with an ID or access token.
Claims: ``iss``, ``aud`` (the app's client id), ``iat``, ``jti``, ``event``
(``grant.revoked``), ``grant`` (the grant document's IRI), ``owner`` (the owner's WebID),
``revoked_at`` (seconds since the epoch) and, when the grant ended for another reason than the
owner's withdrawing it, ``reason`` (:data:`ACCOUNT_DELETED`: the owner deleted their account,
so the app should delete everything it holds of theirs). An app verifies it with any JOSE
library against the issuer's JWKS, checking ``typ``, ``iss`` and ``aud``; ``jti`` stays the
same across retries, so a receiver can drop duplicates.

Delivery is an HTTP POST of the JWT with ``Content-Type: application/jwt`` (RFC 7519 §10.3.1)
through :meth:`auth.fetch.Fetcher.post` (address guard, timeout, no redirects, small read), to
an ``https`` URL — or ``http`` on loopback when ``allow_private_fetch`` is on. A network error,
5xx or 429 is retried after each delay in ``retries``; any 2xx is success. The token is never
logged: INFO lines name only the host and the outcome.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from auth.fetch import Fetcher, FetchError, FetchRefused
from auth.oidc.tokens import SigningKeys

EVENT_TYPE = "grant-event+jwt"
MEDIA_TYPE = "application/jwt"
GRANT_REVOKED = "grant.revoked"
ACCOUNT_DELETED = "account.deleted"
RECENT = 50

log = logging.getLogger(__name__)


class WebhookRefused(ValueError):
    """A webhook URL this server will not post to; the message says why."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one event's delivery, for the owner's view of recent notifications.

    ``status`` is the last HTTP status (``None`` when no answer came), ``attempts`` the number
    of POSTs sent, ``error`` a readable reason when it was not delivered.
    """

    url: str
    event: str
    client_id: str
    status: int | None
    attempts: int
    delivered: bool
    at: float
    error: str | None = None


def _retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


class Webhooks:
    """Signs grant events and posts them to apps in the background, with retries."""

    def __init__(self, keys: SigningKeys, issuer: str, fetcher: Fetcher, *,
                 retries: Sequence[float] = (1.0, 5.0, 25.0)):
        self.keys = keys
        self.issuer = issuer
        self.fetcher = fetcher
        self.retries = tuple(retries)
        self._tasks: set[asyncio.Task[Delivery]] = set()
        self._recent: deque[Delivery] = deque(maxlen=RECENT)

    def check_url(self, url: str) -> str:
        """``url`` when it may receive webhooks: https, or http to a loopback host when private
        addresses are allowed (development). Raises :class:`WebhookRefused` otherwise. The
        address guard itself runs again at each delivery."""
        return check_webhook_url(url, allow_private=self.fetcher.allow_private)

    def token(self, *, client_id: str, grant: str, owner: str, revoked_at: float,
              now: float | None = None, reason: str | None = None) -> str:
        """The signed ``grant.revoked`` event for ``client_id`` (a compact JWS)."""
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": client_id, "iat": int(time.time() if now is None else now),
            "jti": secrets.token_urlsafe(16), "event": GRANT_REVOKED, "grant": grant,
            "owner": owner, "revoked_at": int(revoked_at)}
        if reason is not None:
            claims["reason"] = reason
        return self.keys.sign(claims, typ=EVENT_TYPE)

    def grant_revoked(self, url: str, *, client_id: str, grant: str, owner: str,
                      revoked_at: float, reason: str | None = None) -> None:
        """Schedule the ``grant.revoked`` event's delivery to ``url`` and return at once.

        Must be called with an event loop running (a request handler); :meth:`close` cancels
        what is still pending.
        """
        task = asyncio.get_running_loop().create_task(self.deliver(
            url, client_id=client_id, grant=grant, owner=owner, revoked_at=revoked_at,
            reason=reason))
        self._tasks.add(task)  # a reference, so the task is not garbage-collected mid-flight
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, url: str, *, client_id: str, grant: str, owner: str,
                      revoked_at: float, reason: str | None = None) -> Delivery:
        """Sign the event and post it to ``url``, retrying as configured; the outcome, also
        kept in :meth:`recent`. Never raises for a failed delivery."""
        host = urlsplit(url).hostname or "?"
        try:
            self.check_url(url)
        except WebhookRefused as refused:
            return self._done(url, client_id, None, 0, str(refused), host)
        body = self.token(client_id=client_id, grant=grant, owner=owner,
                          revoked_at=revoked_at, reason=reason).encode()
        status: int | None = None
        error: str | None = None
        attempts = 0
        for delay in (*self.retries, None):
            attempts += 1
            try:
                status = await self.fetcher.post(url, body, MEDIA_TYPE)
                error = None
            except FetchRefused as refused:
                return self._done(url, client_id, None, attempts - 1, str(refused), host)
            except FetchError as failed:
                status, error = None, str(failed)
            if status is not None and 200 <= status <= 299:
                return self._done(url, client_id, status, attempts, None, host)
            if status is not None and not _retryable(status):
                break
            if delay is not None:
                await asyncio.sleep(delay)
        reason = error or f"answered {status}"
        return self._done(url, client_id, status, attempts, reason, host)

    def _done(self, url: str, client_id: str, status: int | None, attempts: int,
              error: str | None, host: str) -> Delivery:
        delivered = error is None
        record = Delivery(url, GRANT_REVOKED, client_id, status, attempts, delivered,
                          time.time(), error)
        self._recent.appendleft(record)
        if delivered:
            log.info("webhook %s to %s: delivered (%s) after %d attempt(s)", GRANT_REVOKED,
                     host, status, attempts)
        else:
            log.info("webhook %s to %s: not delivered after %d attempt(s) (%s)", GRANT_REVOKED,
                     host, attempts, status if status is not None else "no answer")
        return record

    def recent(self) -> list[Delivery]:
        """The last deliveries (at most :data:`RECENT`), newest first."""
        return list(self._recent)

    @property
    def pending(self) -> int:
        """How many deliveries are still running or waiting to retry."""
        return len(self._tasks)

    async def close(self) -> None:
        """Cancel the pending deliveries (at shutdown) and wait for them to stop."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()


def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """``url`` when this server may post events to it: https, or http to a loopback host when
    private addresses are allowed (development); :class:`WebhookRefused` otherwise."""
    parts = urlsplit(url)
    if not parts.hostname or parts.username or parts.password or parts.fragment:
        raise WebhookRefused(f"{url} is not an absolute URL without credentials or fragment")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_private and _loopback(parts.hostname):
        return url
    raise WebhookRefused(f"{url} is not https (plain http only to loopback, with "
                         "allow_private_fetch)")


def _loopback(host: str) -> bool:
    """Whether ``host`` names the loopback interface (``localhost`` or a loopback literal)."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["ACCOUNT_DELETED", "GRANT_REVOKED", "Delivery", "WebhookRefused", "Webhooks",
           "check_webhook_url"]
