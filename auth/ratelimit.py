"""Failed sign-in limits, in memory and bounded.

A key (an account name, a client address) that failed ``limit`` times within ``window``
seconds is refused until the oldest of those failures leaves the window. Each key keeps at
most ``limit`` timestamps and at most ``max_keys`` keys are tracked (least recently failed
dropped first), so memory stays bounded whatever a client sends.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque


class FailureLimiter:
    """Counts failures per key over a sliding window."""

    def __init__(self, limit: int, window: float, max_keys: int = 10_000):
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Seconds until ``key`` may try again, or ``None`` if it may now."""
        now = time.monotonic() if now is None else now
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        if len(times) < self.limit:
            return None
        return max(1, math.ceil(times[0] + self.window - now))

    def fail(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        times = self._failures.pop(key, None) or deque(maxlen=self.limit)
        times.append(now)
        self._failures[key] = times  # most recent last
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


def address_key(host: str | None) -> str:
    """The key of a client address: the address itself, or its /64 for IPv6 (one host
    commonly holds a whole /64)."""
    if not host:
        return "?"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class SignInLimits:
    """The two limits on failed sign-ins: per account and per client address."""

    def __init__(self, per_account: int = 5, per_address: int = 20, window: float = 900):
        self.accounts = FailureLimiter(per_account, window)
        self.addresses = FailureLimiter(per_address, window)

    def retry_after(self, name: str, host: str | None) -> int | None:
        waits = [w for w in (self.accounts.retry_after(name),
                             self.addresses.retry_after(address_key(host))) if w]
        return max(waits) if waits else None

    def fail(self, name: str, host: str | None) -> None:
        self.accounts.fail(name)
        self.addresses.fail(address_key(host))

    def succeed(self, name: str) -> None:
        self.accounts.clear(name)
