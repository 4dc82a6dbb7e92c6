"""Values built from a pod's records, kept while those records are unchanged.

A value such as a pod's parsed access grants or its type-index registrations is built by
reading some records of the pod. :class:`SourcedCache` keeps it with the version of every
record the build read (and the names it found absent); a later use checks those versions
against the store — in the caller's read snapshot, in one query, without opening a value —
and rebuilds when any differs. A write made by any process, on any host sharing the store, is
therefore seen at the next use: the cache needs no message from the writer. Versions are
random per write (:mod:`pod.store.sealed`), so a record rewritten with the same bytes still
counts as changed, and an old version never comes back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from cachetools import LRUCache

from pod.store.sealed import Opened, SealedReader

T = TypeVar("T")
Sources = tuple[tuple[str, bytes | None], ...]
"""Each record a build read, by name, with the version it had (``None``: absent)."""


class RecordingReader(SealedReader):
    """A reader that notes the version of every record read through it."""

    __slots__ = ("seen",)

    def __init__(self, reader: SealedReader) -> None:
        super().__init__(reader._raw, reader._keys)
        self.seen: dict[str, bytes | None] = {}

    async def exists(self, name: str) -> bool:
        version = (await self.versions([name]))[0]
        self.seen.setdefault(name, version)
        return version is not None

    async def get(self, name: str) -> Opened | None:
        opened = await super().get(name)
        self.seen.setdefault(name, opened.version if opened else None)
        return opened


class SourcedCache(Generic[T]):
    """Per-pod values (for the ``size`` pods used most recently), each valid while the
    records it was built from keep their versions."""

    def __init__(self, size: int) -> None:
        self._cached: LRUCache[bytes, tuple[T, Sources]] = LRUCache(size)

    def peek(self, pod_id: bytes) -> T | None:
        """The pod's value as kept, unchecked (``None``: none kept)."""
        found = self._cached.get(pod_id)
        return found[0] if found is not None else None

    def drop(self, pod_id: bytes) -> None:
        """Forget a pod's value (this process wrote one of its sources: no need to check)."""
        self._cached.pop(pod_id, None)

    async def get(self, pod_id: bytes, reader: SealedReader,
                  build: Callable[[SealedReader], Awaitable[T]]) -> T:
        """The pod's value: kept if every source is as it was when it was built, else
        ``build(reader)`` again, through a reader that notes what it reads."""
        found = self._cached.get(pod_id)
        if found is not None and await _unchanged(reader, found[1]):
            return found[0]
        recording = RecordingReader(reader)
        value = await build(recording)
        self._cached[pod_id] = (value, tuple(recording.seen.items()))
        return value


async def _unchanged(reader: SealedReader, sources: Sources) -> bool:
    """Whether every source still has its version (one call to the backend for all)."""
    now = await reader.versions([name for name, _ in sources])
    return all(found == version for found, (_, version) in zip(now, sources, strict=True))
