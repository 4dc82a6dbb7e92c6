"""Limits on failed sign-ins and on client registrations, in memory and bounded.

Failed sign-ins (the numbers and why: docs/auth.md, "Failed sign-ins"):

* **per account and address** — or per account and *known device* (:mod:`auth.devices`):
  exponential back-off. The first :data:`FREE_FAILURES` failures in a row cost nothing; after
  that each one makes the pair wait 5 s, 10 s, 20 s … up to 15 minutes before the next try.
  A success, or a day without failures, starts the pair afresh.
* **per account, from devices not known for it**: at most :data:`ACCOUNT_CEILING` failures in
  an hour, which one address cannot reach but distributed guessing does. A known device is
  exempt, so the owner's own browser always gets through.
* **per address, from devices not known for the account**: at most :data:`ADDRESS_LIMIT`
  failures in 15 minutes across all accounts (one address trying many accounts).

Every table keeps a bounded number of keys (least recently failed dropped first), so memory
stays bounded whatever clients send.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict, deque

FREE_FAILURES = 3
BACKOFF_BASE = 5.0
BACKOFF_CAP = 900.0
BACKOFF_FORGET = 24 * 3600.0
ACCOUNT_CEILING = (50, 3600.0)  # failures, seconds
ADDRESS_LIMIT = (20, 900.0)
REGISTRATIONS = (30, 3600.0)  # client registrations per address, seconds


class FailureLimiter:
    """Counts events (failures, registrations) per key over a sliding window."""

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


class BackOff:
    """Exponential back-off per key: after ``free`` failures in a row, the key waits
    ``base × 2^(n − free)`` seconds (at most ``cap``) after its n-th failure. A success
    (:meth:`clear`), or ``forget`` seconds without a failure, starts it afresh."""

    def __init__(self, free: int = FREE_FAILURES, base: float = BACKOFF_BASE,
                 cap: float = BACKOFF_CAP, forget: float = BACKOFF_FORGET,
                 max_keys: int = 50_000):
        self.free, self.base, self.cap, self.forget = free, base, cap, forget
        self.max_keys = max_keys
        self._keys: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def _failures(self, key: str, now: float) -> tuple[int, float]:
        count, last = self._keys.get(key, (0, now))
        return (0, now) if now - last >= self.forget else (count, last)

    def retry_after(self, key: str, now: float | None = None) -> int | None:
        now = time.monotonic() if now is None else now
        count, last = self._failures(key, now)
        if count < self.free:
            return None
        wait = min(self.cap, self.base * 2 ** min(count - self.free, 32))
        left = last + wait - now
        return math.ceil(left) if left > 0 else None

    def fail(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        count, _ = self._failures(key, now)
        self._keys.pop(key, None)
        self._keys[key] = (count + 1, now)  # most recent last
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)

    def clear(self, key: str) -> None:
        self._keys.pop(key, None)

    def clear_prefix(self, prefix: str) -> None:
        """Forget every key starting with ``prefix`` (rare: a walk over all keys)."""
        for key in [k for k in self._keys if k.startswith(prefix)]:
            del self._keys[key]


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
    """The three limits on failed sign-ins (see the module docstring). ``device`` is the id of
    a device known for the account (checked by the caller), or ``None``."""

    def __init__(self) -> None:
        self.pairs = BackOff()
        self.accounts = FailureLimiter(*ACCOUNT_CEILING)
        self.addresses = FailureLimiter(*ADDRESS_LIMIT)

    @staticmethod
    def _pair(name: str, address: str | None, device: str | None) -> str:
        return f"{name}\ndevice:{device}" if device else f"{name}\n{address_key(address)}"

    def retry_after(self, name: str, address: str | None,
                    device: str | None = None) -> int | None:
        waits = [self.pairs.retry_after(self._pair(name, address, device))]
        if device is None:
            waits += [self.accounts.retry_after(name),
                      self.addresses.retry_after(address_key(address))]
        return max((w for w in waits if w), default=None)

    def fail(self, name: str, address: str | None, device: str | None = None) -> None:
        self.pairs.fail(self._pair(name, address, device))
        if device is None:
            self.accounts.fail(name)
            self.addresses.fail(address_key(address))

    def succeed(self, name: str, address: str | None, device: str | None = None) -> None:
        self.pairs.clear(self._pair(name, address, device))

    def forget(self, name: str) -> None:
        """Forget every failure counted for account ``name`` (deleted: an account made later
        under that name starts afresh)."""
        self.accounts.clear(name)
        self.pairs.clear_prefix(f"{name}\n")


class RegistrationLimit:
    """At most :data:`REGISTRATIONS` dynamic client registrations per address per hour."""

    def __init__(self, limit: int = REGISTRATIONS[0], window: float = REGISTRATIONS[1]):
        self._counts = FailureLimiter(limit, window)

    def retry_after(self, address: str | None) -> int | None:
        """Seconds until ``address`` may register again, or ``None`` if it may now."""
        return self._counts.retry_after(address_key(address))

    def registered(self, address: str | None) -> None:
        self._counts.fail(address_key(address))
