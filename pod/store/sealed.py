"""Sealing: blind every key and encrypt every value before it reaches a backend.

A pod's random key yields two subkeys: one blinds resource paths (keyed BLAKE2b, so equal
paths find each other without the path ever being stored), one seals values with
XChaCha20-Poly1305. The associated data binds pod id, blinded key and version, so a value
moved to another row or pod, or replayed under another version, fails to open loudly.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from nacl import utils

from pod.store.base import APPEND_SLICE, Append, Backend, Reader, Record, Transaction
from pod.store.keys import aead_open, aead_seal, subkey

VERSION_BYTES = 12


@dataclass(frozen=True, slots=True)
class Opened:
    """A record after opening: the plaintext and the version that names it (its ETag)."""

    data: bytes
    version: bytes


class PodKeys:
    """One pod's id and the subkeys of its key.

    ``instance`` names this pod among every pod that ever had its name: a keyed hash under
    the pod's own random key (revealing nothing of it), so a pod deleted and made again under
    the same name has another. Tokens carry it to stay bound to the account they were issued
    to."""

    __slots__ = ("_index", "_seal", "instance", "pod_id")

    def __init__(self, pod_id: bytes, key: bytes):
        self.pod_id = pod_id
        self._index = subkey(key, b"cp-index")
        self._seal = subkey(key, b"cp-seal")
        self.instance = base64.urlsafe_b64encode(subkey(key, b"cp-instance")[:16]).rstrip(
            b"=").decode()

    def blind(self, name: str) -> bytes:
        """Keyed BLAKE2b of a name (hashlib's: the same function as libsodium's, 10× cheaper
        to call from Python on this hot path)."""
        return hashlib.blake2b(name.encode(), digest_size=16, key=self._index).digest()

    def seal(self, blind: bytes, version: bytes, data: bytes) -> bytes:
        return aead_seal(self._seal, data, self.pod_id + blind + version)

    def new_record(self, name: str, data: bytes) -> tuple[bytes, bytes, bytes]:
        """``data`` as a new record under ``name``: its blinded key, a fresh random version
        and the value sealed with both."""
        blind, version = self.blind(name), utils.random(VERSION_BYTES)
        return blind, version, self.seal(blind, version, data)

    def open(self, blind: bytes, version: bytes, sealed: bytes) -> bytes:
        return aead_open(self._seal, sealed, self.pod_id + blind + version)


class SealedReader:
    """Reads of one pod by plaintext name; the backend sees blinded keys only."""

    __slots__ = ("_keys", "_raw")

    def __init__(self, raw: Reader, keys: PodKeys):
        self._raw, self._keys = raw, keys

    async def exists(self, name: str) -> bool:
        """Whether a record is stored under ``name`` (without opening it)."""
        return await self._raw.get(self._keys.blind(name)) is not None

    async def get(self, name: str) -> Opened | None:
        blind = self._keys.blind(name)
        record = await self._raw.get(blind)
        if record is None:
            return None
        return Opened(self._keys.open(blind, record.version, record.value), record.version)

    async def versions(self, names: list[str]) -> list[bytes | None]:
        """The version of the record under each of ``names`` (``None``: none), without
        opening them, in one call to the backend."""
        return await self._raw.versions([self._keys.blind(name) for name in names])


class SealedTransaction(SealedReader):
    """A write transaction of one pod; ``put`` returns the new version.

    :meth:`prefetch` reads several records the transaction will use in one query; later
    ``get``/``exists`` of them are answered from what it read (writes of one pod are
    serialised, so nothing else changes them meanwhile), and the transaction's own writes
    replace what it holds."""

    __slots__ = ("_ahead",)
    _raw: Transaction

    def __init__(self, raw: Transaction, keys: PodKeys):
        super().__init__(raw, keys)
        self._ahead: dict[str, Opened | tuple[bytes, Record] | None] = {}

    async def prefetch(self, names: list[str]) -> None:
        """Read the records under ``names`` in one query, for the gets that follow (each
        opened only when it is got)."""
        blinds = [self._keys.blind(name) for name in names]
        records = await self._raw.get_many(blinds)
        for name, blind, record in zip(names, blinds, records, strict=True):
            self._ahead[name] = None if record is None else (blind, record)

    async def exists(self, name: str) -> bool:
        if name in self._ahead:
            return self._ahead[name] is not None
        return await super().exists(name)

    async def get(self, name: str) -> Opened | None:
        if name not in self._ahead:
            return await super().get(name)
        found = self._ahead[name]
        if isinstance(found, tuple):
            blind, record = found
            found = self._ahead[name] = Opened(
                self._keys.open(blind, record.version, record.value), record.version)
        return found

    async def put(self, name: str, data: bytes, expect: bytes | None = None) -> bytes:
        blind, version, sealed = self._keys.new_record(name, data)
        await self._raw.put(blind, sealed, version, expect)
        if name in self._ahead:
            self._ahead[name] = Opened(data, version)
        return version

    async def delete(self, name: str, expect: bytes | None = None) -> bool:
        removed = await self._raw.delete(self._keys.blind(name), expect)
        if name in self._ahead:
            self._ahead[name] = None
        return removed


class SealedStore:
    """The backend seen through a pod's keys."""

    def __init__(self, backend: Backend):
        self.backend = backend

    @asynccontextmanager
    async def read(self, keys: PodKeys) -> AsyncIterator[SealedReader]:
        async with self.backend.read(keys.pod_id) as raw:
            yield SealedReader(raw, keys)

    async def append_many(self, items: list[tuple[PodKeys, str, bytes, str | None]]
                          ) -> list[bool]:
        """Add a record to each of many pods in one commit: ``(keys, name, data, after)``
        stores ``data`` under ``name`` where no record is and, with ``after``, only if a
        record is under ``after``; whether each was stored. At most one item per pod. Sealed
        :data:`~pod.store.base.APPEND_SLICE` at a time, letting the event loop run between."""
        appends = []
        for n, (keys, name, data, after) in enumerate(items):
            if n and not n % APPEND_SLICE:
                await asyncio.sleep(0)
            blind, version, sealed = keys.new_record(name, data)
            appends.append(Append(keys.pod_id, blind, sealed, version,
                                  None if after is None else keys.blind(after)))
        return await self.backend.append_many(appends)

    @asynccontextmanager
    async def write(self, keys: PodKeys) -> AsyncIterator[SealedTransaction]:
        async with self.backend.write(keys.pod_id) as raw:
            yield SealedTransaction(raw, keys)
