"""The pod directory: pod names to pod ids and keys, through a blind index."""

from __future__ import annotations

from nacl import utils

from pod.errors import VersionConflict
from pod.store.base import Backend, PodRow
from pod.store.keys import KEY_BYTES, Keyring
from pod.store.sealed import PodKeys


class PodExists(Exception):
    """A pod with that name is already registered."""


class PodDirectory:
    """Finds, creates and destroys pods. Only found pods are cached, so a pod created by
    another process (the CLI) is visible to the server at once."""

    def __init__(self, backend: Backend, keyring: Keyring):
        self._backend, self._keyring = backend, keyring
        self._cache: dict[str, PodKeys] = {}

    async def find(self, name: str) -> PodKeys | None:
        keys = self._cache.get(name)
        if keys is None:
            row = await self._backend.find_pod(self._keyring.name_index(name))
            if row is None:
                return None
            keys = self._cache[name] = PodKeys(row.pod_id, self._keyring.unwrap_pod_key(row))
        return keys

    async def create(self, name: str) -> PodKeys:
        pod_id, key = utils.random(16), utils.random(KEY_BYTES)
        row = PodRow(pod_id, self._keyring.wrap_pod_key(pod_id, key))
        try:
            await self._backend.create_pod(row, self._keyring.name_index(name))
        except VersionConflict:
            raise PodExists(name) from None
        return PodKeys(pod_id, key)

    async def destroy(self, name: str) -> bool:
        """Crypto-shred a pod: its wrapped key goes first, then its rows."""
        row = await self._backend.find_pod(self._keyring.name_index(name))
        self._cache.pop(name, None)
        if row is None:
            return False
        await self._backend.drop_pod(row.pod_id)
        return True
