"""Limits on failed sign-ins and on client registrations.

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

The failures are events in the store (``Backend.add_event``; accounts and addresses blinded
with the server's key, never stored as they are), so every process serving from the store —
the workers of ``serve --workers``, processes on other hosts sharing a PostgreSQL database —
counts the same failures: guessing spread over processes is limited as guessing at one is.
Without a store (``events=None``) they are kept in memory, a bounded number of keys (least
recently failed dropped first). Each key keeps only the events its limit needs.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

FREE_FAILURES = 3
BACKOFF_BASE = 5.0
BACKOFF_CAP = 900.0
BACKOFF_FORGET = 24 * 3600.0
ACCOUNT_CEILING = (50, 3600.0)  # failures, seconds
ADDRESS_LIMIT = (20, 900.0)
REGISTRATIONS = (30, 3600.0)  # client registrations per address, seconds


class Events(Protocol):
    """Where events are kept: the store's (``Backend.add_event`` …) or :class:`MemoryEvents`."""

    async def add_event(self, key: bytes, at: float, expires: float, keep: int) -> None: ...

    async def events(self, key: bytes, now: float) -> list[float]: ...

    async def clear_events(self, prefix: bytes) -> None: ...


class MemoryEvents:
    """Events in this process's memory, for ``max_keys`` keys (least recently added dropped)."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self.max_keys = max_keys
        self._events: OrderedDict[bytes, list[tuple[float, float]]] = OrderedDict()

    async def add_event(self, key: bytes, at: float, expires: float, keep: int) -> None:
        found = self._events.pop(key, [])
        found = sorted([*found, (at, expires)])[-keep:]
        self._events[key] = found  # most recent last
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)

    async def events(self, key: bytes, now: float) -> list[float]:
        return [at for at, expires in self._events.get(key, ()) if expires > now]

    async def clear_events(self, prefix: bytes) -> None:
        for key in [k for k in self._events if k.startswith(prefix)]:
            del self._events[key]


Blind = Callable[[str], bytes]
"""A key's stored form: the server's keyed hash (16 bytes)."""


def _plain(name: str) -> bytes:
    """The form of a key kept in this process's memory: an unkeyed hash of fixed length."""
    return hashlib.blake2b(name.encode(), digest_size=16).digest()


class FailureLimiter:
    """Counts events (failures, registrations) per key over a sliding window."""

    def __init__(self, limit: int, window: float, events: Events | None = None,
                 blind: Blind | None = None, *, scope: str = "", max_keys: int = 10_000):
        self.limit, self.window = limit, window
        self._events = events or MemoryEvents(max_keys)
        self._blind, self._scope = blind or _plain, scope

    def _key(self, key: str) -> bytes:
        return self._blind(f"{self._scope}\n{key}")

    async def retry_after(self, key: str, now: float | None = None) -> int | None:
        """Seconds until ``key`` may try again, or ``None`` if it may now."""
        now = time.time() if now is None else now
        times = [t for t in await self._events.events(self._key(key), now)
                 if t > now - self.window]
        if len(times) < self.limit:
            return None
        return max(1, math.ceil(times[-self.limit] + self.window - now))

    async def fail(self, key: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        await self._events.add_event(self._key(key), now, now + self.window, self.limit)

    async def clear(self, key: str) -> None:
        await self._events.clear_events(self._key(key))


class BackOff:
    """Exponential back-off per key: after ``free`` failures, the key waits
    ``base × 2^(n − free)`` seconds (at most ``cap``) after its n-th failure. A success
    (:meth:`clear`) starts it afresh, and each failure is forgotten after ``forget`` seconds.
    A key may have two parts (``group``, ``member``): :meth:`clear_group` forgets a group's."""

    def __init__(self, free: int = FREE_FAILURES, base: float = BACKOFF_BASE,
                 cap: float = BACKOFF_CAP, forget: float = BACKOFF_FORGET,
                 events: Events | None = None, blind: Blind | None = None, *,
                 scope: str = "", max_keys: int = 50_000):
        self.free, self.base, self.cap, self.forget = free, base, cap, forget
        self._events = events or MemoryEvents(max_keys)
        self._blind, self._scope = blind or _plain, scope
        # enough failures to reach the cap; older ones change nothing
        self._keep = free + max(1, math.ceil(math.log2(max(cap / base, 1)))) + 1

    def _group(self, group: str) -> bytes:
        return self._blind(f"{self._scope}\n{group}")

    def _key(self, group: str, member: str) -> bytes:
        return self._group(group) + (self._blind(member) if member else b"")

    async def retry_after(self, group: str, member: str = "",
                          now: float | None = None) -> int | None:
        now = time.time() if now is None else now
        times = await self._events.events(self._key(group, member), now)
        count = len(times)
        if count < self.free:
            return None
        wait = min(self.cap, self.base * 2 ** min(count - self.free, 32))
        left = times[-1] + wait - now
        return math.ceil(left) if left > 0 else None

    async def fail(self, group: str, member: str = "", now: float | None = None) -> None:
        now = time.time() if now is None else now
        await self._events.add_event(self._key(group, member), now, now + self.forget,
                                     self._keep)

    async def clear(self, group: str, member: str = "") -> None:
        await self._events.clear_events(self._key(group, member))

    async def clear_group(self, group: str) -> None:
        """Forget every key of ``group``."""
        await self._events.clear_events(self._group(group))


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
    a device known for the account (checked by the caller), or ``None``. ``events`` and
    ``blind``: the store's events and the server's keyed hash (none: this process's memory)."""

    def __init__(self, events: Events | None = None, blind: Blind | None = None) -> None:
        self.pairs = BackOff(events=events, blind=blind, scope="sign-in pair")
        self.accounts = FailureLimiter(*ACCOUNT_CEILING, events, blind, scope="sign-in account")
        self.addresses = FailureLimiter(*ADDRESS_LIMIT, events, blind, scope="sign-in address")

    @staticmethod
    def _member(address: str | None, device: str | None) -> str:
        return f"device:{device}" if device else address_key(address)

    async def retry_after(self, name: str, address: str | None,
                          device: str | None = None) -> int | None:
        waits = [await self.pairs.retry_after(name, self._member(address, device))]
        if device is None:
            waits += [await self.accounts.retry_after(name),
                      await self.addresses.retry_after(address_key(address))]
        return max((w for w in waits if w), default=None)

    async def fail(self, name: str, address: str | None, device: str | None = None) -> None:
        await self.pairs.fail(name, self._member(address, device))
        if device is None:
            await self.accounts.fail(name)
            await self.addresses.fail(address_key(address))

    async def succeed(self, name: str, address: str | None, device: str | None = None) -> None:
        await self.pairs.clear(name, self._member(address, device))

    async def forget(self, name: str) -> None:
        """Forget every failure counted for account ``name`` (deleted: an account made later
        under that name starts afresh)."""
        await self.accounts.clear(name)
        await self.pairs.clear_group(name)


class RegistrationLimit:
    """At most :data:`REGISTRATIONS` dynamic client registrations per address per hour."""

    def __init__(self, limit: int = REGISTRATIONS[0], window: float = REGISTRATIONS[1],
                 events: Events | None = None, blind: Blind | None = None) -> None:
        self._counts = FailureLimiter(limit, window, events, blind, scope="registration")

    async def retry_after(self, address: str | None) -> int | None:
        """Seconds until ``address`` may register again, or ``None`` if it may now."""
        return await self._counts.retry_after(address_key(address))

    async def registered(self, address: str | None) -> None:
        await self._counts.fail(address_key(address))
