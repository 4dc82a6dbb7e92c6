"""When to try a request again (RFC 9110 §10.2.3 ``Retry-After``; RFC 6585 §4 429)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from apps.sdk.errors import retry_after


@dataclass(frozen=True)
class Retry:
    """When to try a request again: at most ``attempts`` tries in all, for ``methods`` only,
    after a 429 or 503 (waiting what ``Retry-After`` says, up to ``max_wait`` seconds; a longer
    wait is not waited for) or a network error (waiting ``backoff`` seconds, doubled each time,
    with jitter)."""

    attempts: int = 3
    backoff: float = 0.25
    max_wait: float = 30.0
    methods: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})
    statuses: frozenset[int] = frozenset({429, 503})

    def delay(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before try ``attempt + 1``, or ``None``: do not try again."""
        if attempt >= self.attempts:
            return None
        backoff: float = self.backoff * 2 ** (attempt - 1) * (0.5 + random.random())  # noqa: S311
        if response is None:
            return min(backoff, self.max_wait)
        asked = retry_after(response)
        if asked is None:
            return min(backoff, self.max_wait)
        return asked if asked <= self.max_wait else None


NO_RETRY = Retry(attempts=1)
