"""Many members at once: read what every member granted, concurrently and safely.

A community app reads one bulk answer per member (``/.api/collect``), from pods on many
servers. :class:`Community` runs those reads with at most ``concurrency`` in flight in all
and at most ``per_server`` to one server (a member waiting for their server's turn holds no
slot, so a slow server never holds up the others), gives each member ``timeout`` seconds from
the moment its read starts (discovering the pod, retries and waits included), and retries as
the client's :class:`~apps.sdk.retry.Retry` says (429 and 503 honouring ``Retry-After``,
network errors with backoff). Every member gets a :class:`MemberResult` — the value, or the
error that member met — so one dead server costs its own members, never the whole read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from apps.sdk.client import PodClient
from apps.sdk.errors import SdkError
from apps.sdk.records import Record
from apps.sdk.resources import Collected

T = TypeVar("T")


@dataclass
class MemberResult(Generic[T]):
    """What one member's read gave: ``value``, or ``error`` (an
    :class:`~apps.sdk.errors.SdkError`; :class:`TimeoutError` past the per-member timeout;
    whatever else ``work`` raised).
    ``pod`` is the member's pod when it was found; ``seconds`` how long the read took."""

    member: str
    pod: str | None = None
    value: T | None = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL: what counts as one server."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Community:
    """Reads many members' pods through one :class:`~apps.sdk.client.PodClient`.

    Members are named by WebID (``…/profile/card#me``: their pod is their profile's
    ``pim:storage``) or by pod URL (``https://host/NAME/``)."""

    def __init__(self, client: PodClient, *, concurrency: int = 8, per_server: int | None = None,
                 timeout: float = 30.0) -> None:
        if concurrency < 1 or (per_server is not None and per_server < 1):
            raise ValueError("concurrency and per_server must be at least 1")
        self.client = client
        self.concurrency = concurrency
        self.per_server = per_server or min(concurrency, client.per_server)
        self.timeout = timeout

    async def pod_of(self, member: str) -> str:
        """The member's pod: a pod URL as it is; a WebID's first ``pim:storage``."""
        if "#" not in member:
            return member if member.endswith("/") else member + "/"
        storage = (await self.client.profile(member)).storage
        if storage is None:
            raise SdkError(f"the profile of {member} names no storage (pim:storage)")
        return storage

    async def each(self, members: Iterable[str],
                   work: Callable[[PodClient, str], Awaitable[T]]
                   ) -> AsyncIterator[MemberResult[T]]:
        """``work(client, pod)`` for every member, yielding each result as it is done."""
        everyone = asyncio.Semaphore(self.concurrency)
        servers: dict[str, asyncio.Semaphore] = {}
        done: asyncio.Queue[MemberResult[T]] = asyncio.Queue()

        async def one(member: str) -> None:
            server = servers.setdefault(origin(member), asyncio.Semaphore(self.per_server))
            result: MemberResult[T] = MemberResult(member)
            async with server, everyone:
                started = time.monotonic()
                try:
                    async with asyncio.timeout(self.timeout):
                        result.pod = await self.pod_of(member)
                        result.value = await work(self.client, result.pod)
                except Exception as exc:  # each member's failure is its own, whatever it is
                    result.error = exc
                result.seconds = time.monotonic() - started
                done.put_nowait(result)  # told before the next member may start

        tasks = [asyncio.create_task(one(m)) for m in dict.fromkeys(members)]
        try:
            for _ in tasks:
                yield await done.get()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self, members: Iterable[str],
                  work: Callable[[PodClient, str], Awaitable[T]]) -> list[MemberResult[T]]:
        """``work(client, pod)`` for every member; the results in the members' order."""
        members = list(dict.fromkeys(members))
        found = {r.member: r async for r in self.each(members, work)}
        return [found[m] for m in members]

    async def collect(self, members: Iterable[str], cls: str | type[Record]
                      ) -> list[MemberResult[Collected]]:
        """Every member's documents of class ``cls`` (one ``/.api/collect`` each), in the
        members' order; what a member did not grant is an error for that member
        (:class:`~apps.sdk.errors.Forbidden`), as is a server that is down or too slow."""
        async def read(client: PodClient, pod: str) -> Collected:
            return await client.collect(pod, cls)

        return await self.run(members, read)
