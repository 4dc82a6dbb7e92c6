"""The server's own records — accounts, sessions, clients, signing keys — sealed like pod data.

They live in a reserved namespace (an all-zero pod id, which :class:`PodDirectory` never
issues) under a key derived from the server key, so the database reveals no account name,
session or credential either. Rotating the master key rewraps the server key and so covers
them too.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pod.errors import VersionConflict
from pod.store.base import ABSENT
from pod.store.keys import Keyring, subkey
from pod.store.sealed import (
    VERSION_BYTES,
    Opened,
    PodKeys,
    SealedReader,
    SealedStore,
    SealedTransaction,
)

SYSTEM_POD_ID = bytes(16)


class SystemRecords:
    """Named, sealed server records; JSON helpers for the common case."""

    def __init__(self, store: SealedStore, keyring: Keyring):
        self._store = store
        self._keys = PodKeys(SYSTEM_POD_ID, subkey(keyring.server, b"cp-system"))

    def blind(self, name: str) -> bytes:
        """The server's keyed hash of ``name`` (16 bytes): how ephemeral server state, such as
        failed sign-ins by account and address, names them in the store."""
        return self._keys.blind(name)

    def seal(self, purpose: str, data: bytes) -> bytes:
        """``data`` sealed under the server's key for ``purpose``, for ephemeral messages
        between the processes sharing the store (a random nonce each time)."""
        _, nonce, sealed = self._keys.new_record(purpose, data)
        return nonce + sealed

    def open(self, purpose: str, sealed: bytes) -> bytes:
        """What :meth:`seal` sealed for ``purpose``; raises if it was not (or was altered)."""
        nonce = sealed[:VERSION_BYTES]
        return self._keys.open(self._keys.blind(purpose), nonce, sealed[VERSION_BYTES:])

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SealedReader]:
        async with self._store.read(self._keys) as reader:
            yield reader

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SealedTransaction]:
        """One atomic, durable transaction over system records."""
        async with self._store.write(self._keys) as tx:
            yield tx

    async def get(self, name: str) -> Opened | None:
        async with self.read() as reader:
            return await reader.get(name)

    async def get_json(self, name: str) -> Any | None:
        opened = await self.get(name)
        return json.loads(opened.data) if opened else None

    async def secret(self, name: str) -> bytes:
        """The random 32-byte secret kept as record ``name``, made on first use (by whichever
        process comes first; the others read it)."""
        record = await self.get_json(name)
        if record is None:
            fresh = {"key": secrets.token_hex(32)}
            try:
                async with self.write() as tx:
                    await tx.put(name, dump(fresh), expect=ABSENT)
                record = fresh
            except VersionConflict:  # made meanwhile
                record = await self.get_json(name) or fresh
        return bytes.fromhex(record["key"])


def dump(value: Any) -> bytes:
    """JSON bytes for a system record."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
