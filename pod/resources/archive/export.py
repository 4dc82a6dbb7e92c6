"""Exporting a pod: one walk to plan the archive, then a stream of known length.

Planning reads every resource once (one at a time) for its size and SHA-256, which the
manifest at the head of the archive lists; streaming reads each again and sends it. Entries
are stored, not compressed, so the archive's length is known before its first byte and a
browser shows how far a download has come (``Content-Length``). zipstream-ng writes the zip —
the standard library's ``zipfile`` streams too, but cannot tell the length beforehand.

A resource written between the two readings would no longer match its checksum, so the
stream stops (:class:`ExportChanged`) rather than send an archive that contradicts its own
manifest; the next export is consistent again. Memory holds the plan (paths and checksums)
and one resource at a time, never the pod.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Protocol

from zipstream import ZipStream

from pod.resources import membership
from pod.resources.archive.manifest import (
    KINDS,
    LOG_PREFIX,
    NAME,
    POD_PREFIX,
    Entry,
    Extra,
    Manifest,
)
from pod.resources.paths import AUX_SUFFIXES
from pod.resources.records import CONTAINER, Resource
from pod.store.sealed import PodKeys, SealedReader, SealedStore

CHUNK = 64 * 1024
CONTAINER_FILE = ".container.ttl"


class ExportChanged(Exception):
    """The pod changed while its archive was being sent (the archive is incomplete)."""


class LogDays(Protocol):
    """The owner's access log, one JSON document per day (``pod.access`` provides it)."""

    async def days(self) -> list[str]: ...

    async def day(self, day: str) -> bytes: ...


class _Slot:
    """What zipstream-ng reads for one entry: filled just before the entry is streamed."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data = b""

    def __iter__(self) -> Iterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start:start + CHUNK])
        self.data = b""


@dataclass(frozen=True, slots=True)
class _Planned:
    entry: Entry
    version: bytes


class PodExport:
    """One planned export: its manifest, its length, and the stream."""

    def __init__(self, store: SealedStore, keys: PodKeys, manifest: Manifest,
                 planned: list[_Planned], log: LogDays | None, today: dict[str, bytes]):
        self.manifest = manifest
        self._store, self._keys, self._planned, self._log = store, keys, planned, log
        self._today = today  # log days that may still grow: their bytes as planned
        self._zip = ZipStream(sized=True)
        self._zip.add(manifest.dumps(), NAME)
        self._slots = [_Slot() for _ in range(len(planned) + len(manifest.files))]
        files = [p.entry for p in planned] + list(manifest.files)
        for slot, entry in zip(self._slots, files, strict=True):
            self._zip.add(slot, entry.file, size=entry.size)

    @property
    def length(self) -> int:
        """The archive's size in bytes."""
        return len(self._zip)

    async def stream(self) -> AsyncIterator[bytes]:
        """The archive's bytes; raises :class:`ExportChanged` when a resource changed since
        the plan was made."""
        for chunk in self._zip.file():  # the manifest
            yield chunk
        slots = iter(self._slots)
        for planned in self._planned:
            next(slots).data = await self._resource(planned)
            for chunk in self._zip.file():
                yield chunk
        for extra in self.manifest.files:
            next(slots).data = await self._log_day(extra)
            for chunk in self._zip.file():
                yield chunk
        for chunk in self._zip.footer():
            yield chunk

    async def _resource(self, planned: _Planned) -> bytes:
        async with self._store.read(self._keys) as reader:
            opened = await reader.get(planned.entry.path)
        if opened is None or opened.version != planned.version:
            raise ExportChanged(f"{planned.entry.path} changed during the export")
        return Resource.decode(opened.data, opened.version).body

    async def _log_day(self, extra: Extra) -> bytes:
        data = self._today.get(extra.day)
        if data is None and self._log is not None:
            data = await self._log.day(extra.day)
        if data is None or hashlib.sha256(data).hexdigest() != extra.sha256:
            raise ExportChanged(f"the access log of {extra.day} changed during the export")
        return data


async def plan(store: SealedStore, keys: PodKeys, *, pod_url: str, owner: str, issuer: str,
               log: LogDays | None = None) -> PodExport:
    """Walk the pod (and its log) once: the manifest and what streaming it will read."""
    planned: list[_Planned] = []
    used: set[str] = set()
    async with store.read(keys) as reader:
        async for path, res in walk(reader):
            planned.append(_Planned(_entry(path, res, used), res.version))
    today, extras = {}, []
    if log is not None:
        current = time.strftime("%Y-%m-%d", time.gmtime())
        for day in await log.days():
            data = await log.day(day)
            if day >= current:
                today[day] = data
            extras.append(Extra(f"{LOG_PREFIX}{day}.json", "access-log", day,
                                "application/json", len(data), hashlib.sha256(data).hexdigest()))
    exported = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    manifest = Manifest(pod_url, owner, issuer, exported, tuple(p.entry for p in planned),
                        tuple(extras))
    return PodExport(store, keys, manifest, planned, log, today)


async def walk(reader: SealedReader) -> AsyncIterator[tuple[str, Resource]]:
    """Every resource of the pod, depth first from the root: a container, its auxiliary
    resources, then its members in name order (each with theirs)."""
    stack = ["/"]
    while stack:
        path = stack.pop()
        opened = await reader.get(path)
        if opened is None:
            continue  # deleted since its container was read
        res = Resource.decode(opened.data, opened.version)
        yield path, res
        for suffix in AUX_SUFFIXES:
            aux = await reader.get(path + suffix)
            if aux is not None:
                yield path + suffix, Resource.decode(aux.data, aux.version)
        if res.kind == CONTAINER:
            members = await membership.members(reader, path, res)
            stack.extend(path + name for name in sorted(members, reverse=True))


def _entry(path: str, res: Resource, used: set[str]) -> Entry:
    """The manifest entry of a resource, under a file name no other entry has."""
    name = POD_PREFIX + path + (CONTAINER_FILE if res.kind == CONTAINER else "")
    file, n = name, 1
    while file in used:
        n += 1
        file = f"{name}~{n}"
    used.add(file)
    return Entry(path, file, KINDS[res.kind], res.content_type, len(res.body),
                 hashlib.sha256(res.body).hexdigest(), res.modified)
