"""The server's notification channels: sealed in the store, known in every process.

Channels live in the server's own sealed records (:class:`~pod.store.system.SystemRecords`),
spread over :data:`SHARDS` records by the first two hex digits of their id, so making or ending
one rewrites a few kilobytes, not every channel. Each write also replaces a small ``generation``
record; every process checks that record's version (one query, nothing opened) each time it
polls, and reads again only the shards whose versions changed. A channel made through one
process is so known to every other within a poll interval — and a channel ended anywhere
(unsubscribed, expired, its subscriber's access gone) is gone everywhere.

Bounds: at most :data:`PER_AGENT` live channels per WebID, whichever apps made them (making
one more ends that WebID's oldest); at most :data:`ANONYMOUS` anonymous ones in all and
:data:`MAX_CHANNELS` in all — past those a subscription is refused (503), never made by ending
someone else's. The counts are taken inside the write transaction, so concurrent subscriptions
cannot pass them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable

from pod.errors import ServiceUnavailable
from pod.notifications.channels import Channel
from pod.store.sealed import SealedTransaction
from pod.store.system import SystemRecords, dump

SHARDS = 256
PER_AGENT = 100
ANONYMOUS = 1_000
MAX_CHANNELS = 100_000
GENERATION = "notification-channels/generation"
log = logging.getLogger(__name__)


def shard_of(channel_id: str) -> str:
    return f"notification-channels/{channel_id[:2]}"


_SHARD_NAMES = [f"notification-channels/{i:02x}" for i in range(SHARDS)]


class Registry:
    """Every live channel, by id, by topic and by its socket secret's hash; kept in step with
    the store by :meth:`refresh`. ``ended`` is called with each channel that leaves it."""

    def __init__(self, system: SystemRecords, ended: Callable[[Channel], None]):
        self._system = system
        self._ended = ended
        self._shards: dict[str, dict[str, Channel]] = {}
        self._versions: dict[str, bytes | None] = {}
        self._generation: bytes | None = b"?"
        self._reading = asyncio.Lock()  # one refresh at a time: none applies an older read
        self._adding = asyncio.Lock()  # one subscription at a time, until it is committed
        self.by_id: dict[str, Channel] = {}
        self.by_topic: dict[str, set[str]] = {}
        self.by_receive: dict[str, str] = {}

    # --- reading ---------------------------------------------------------------------------

    def on(self, topic: str) -> list[Channel]:
        """The channels listening to ``topic``."""
        return [self.by_id[i] for i in self.by_topic.get(topic, ())]

    async def refresh(self) -> None:
        """Read again what changed in the store since the last look (one query when
        nothing did)."""
        async with self._reading:
            await self._refresh()

    async def _refresh(self) -> None:
        async with self._system.read() as reader:
            [generation] = await reader.versions([GENERATION])
            if generation == self._generation:
                return
            versions = await reader.versions(_SHARD_NAMES)
            changed = [name for name, version in zip(_SHARD_NAMES, versions, strict=True)
                       if self._versions.get(name) != version]
            loaded = {}
            for name in changed:
                opened = await reader.get(name)
                loaded[name] = (_decode(opened.data) if opened else {},
                                opened.version if opened else None)
        self._generation = generation
        for name, (channels, version) in loaded.items():
            self._replace(name, channels)
            self._versions[name] = version

    # --- writing ---------------------------------------------------------------------------

    async def add(self, channel: Channel, now: float) -> None:
        """Keep ``channel``, ending the subscriber's oldest beyond the bound; 503 when the
        server or the anonymous keep as many as they may."""
        async with self._adding, self._system.write() as tx:  # counted where no other
            await tx.put(GENERATION, b"{}")  # subscription runs: this process's, the store's
            await self.refresh()
            live = [c for c in self.by_id.values() if c.live(now)]
            if len(live) >= MAX_CHANNELS or (channel.agent.webid is None and sum(
                    c.agent.webid is None for c in live) >= ANONYMOUS):
                raise ServiceUnavailable("this server keeps as many notification channels "
                                         "as it can; try again later",
                                         headers={"Retry-After": "60"})
            mine = sorted((c for c in live if channel.agent.webid is not None
                           and c.agent.webid == channel.agent.webid), key=lambda c: c.created)
            evicted = mine[:max(0, len(mine) + 1 - PER_AGENT)]
            await self._apply(tx, {channel.id: channel}, [c.id for c in evicted], now)
        await self.refresh()

    async def remove(self, ids: Iterable[str], now: float) -> None:
        """End the channels ``ids`` (those still kept)."""
        await self._write({}, list(ids), now)

    async def sweep(self, now: float) -> None:
        """End every channel whose time is up."""
        await self.refresh()
        expired = [c.id for c in self.by_id.values() if not c.live(now)]
        if expired:
            await self._write({}, expired, now)

    async def _write(self, added: dict[str, Channel], removed: list[str], now: float) -> None:
        async with self._system.write() as tx:
            await self._apply(tx, added, removed, now)
        await self.refresh()

    @staticmethod
    async def _apply(tx: SealedTransaction, added: dict[str, Channel], removed: list[str],
                     now: float) -> None:
        for name in sorted({shard_of(i) for i in (*added, *removed)}):
            opened = await tx.get(name)
            channels = _decode(opened.data) if opened else {}
            for channel_id in removed:
                channels.pop(channel_id, None)
            channels.update((i, c) for i, c in added.items() if shard_of(i) == name)
            channels = {i: c for i, c in channels.items() if c.live(now)}
            if channels:
                await tx.put(name, _encode(channels))
            elif opened is not None:
                await tx.delete(name)
        await tx.put(GENERATION, b"{}")  # a new version: every process reads again

    def _replace(self, name: str, channels: dict[str, Channel]) -> None:
        old = self._shards.get(name, {})
        for channel_id, channel in old.items():
            if channel_id not in channels:
                self._forget(channel)
        for channel in channels.values():
            if channel.id not in old:
                self.by_id[channel.id] = channel
                self.by_topic.setdefault(channel.topic, set()).add(channel.id)
                if channel.receive_hash:
                    self.by_receive[channel.receive_hash] = channel.id
        self._shards[name] = channels

    def _forget(self, channel: Channel) -> None:
        self.by_id.pop(channel.id, None)
        ids = self.by_topic.get(channel.topic)
        if ids is not None:
            ids.discard(channel.id)
            if not ids:
                del self.by_topic[channel.topic]
        if channel.receive_hash:
            self.by_receive.pop(channel.receive_hash, None)
        self._ended(channel)


def _decode(data: bytes) -> dict[str, Channel]:
    """A shard's channels; one that cannot be read is left out (and said), not fatal."""
    found = {}
    for item in json.loads(data):
        try:
            channel = Channel.from_json(item)
        except (TypeError, ValueError, KeyError, AttributeError):
            log.warning("notifications: a kept channel could not be read; it is left out")
            continue
        found[channel.id] = channel
    return found


def _encode(channels: dict[str, Channel]) -> bytes:
    return dump([c.to_json() for c in channels.values()])
