"""The pod directory: pod names to pod ids and keys, through a blind index."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from cachetools import LRUCache
from nacl import utils

from pod.errors import VersionConflict
from pod.store.base import Backend, PodRow
from pod.store.keys import KEY_BYTES, Keyring
from pod.store.sealed import PodKeys

_FOUND: ContextVar[dict[str, PodKeys | None] | None] = ContextVar("pods_found", default=None)
"""The pods one request has looked up already (:meth:`PodDirectory.one_request`)."""


class PodExists(Exception):
    """A pod with that name is already registered."""


class PodGone(Exception):
    """The pod to replace was deleted or replaced meanwhile."""


class StagedPod:
    """A pod id and key not registered under any name (yet)."""

    __slots__ = ("key", "keys", "pod_id")

    def __init__(self, pod_id: bytes, key: bytes):
        self.pod_id, self.key = pod_id, key
        self.keys = PodKeys(pod_id, key)


class PodDirectory:
    """Finds, creates and destroys pods.

    Every lookup reads the pod's row (one indexed point read; once per request inside
    :meth:`one_request`), so a pod that another process (the CLI) created or deleted is seen at
    once; what is cached is the work done on a row — its blind index and its unwrapped key — and
    used only while the row is the same."""

    def __init__(self, backend: Backend, keyring: Keyring, *, cache_size: int = 50_000):
        self._backend, self._keyring = backend, keyring
        self._gone: list[Callable[[str, str], None]] = []
        # the least recently used go first: memory stays bounded however many pods are read
        self._cache: LRUCache[str, tuple[bytes, PodRow, PodKeys]] = LRUCache(cache_size)

    @contextmanager
    def one_request(self) -> Iterator[None]:
        """Within the block (one request's task), a pod is looked up once: the request's own
        pod read again as its token's pod (every DPoP request of an owner) costs no second
        read, and the request sees one answer for it."""
        token = _FOUND.set({})
        try:
            yield
        finally:
            _FOUND.reset(token)

    async def find(self, name: str) -> PodKeys | None:
        """The keys of pod ``name``, or ``None`` when there is no such pod (any more)."""
        found = _FOUND.get()
        if found is None:
            return await self._find(name)
        if name not in found:
            found[name] = await self._find(name)
        return found[name]

    async def _find(self, name: str) -> PodKeys | None:
        cached = self._cache.get(name)
        index = cached[0] if cached else self._keyring.name_index(name)
        row = await self._backend.find_pod(index)
        if row is None:
            if cached:
                self._cache.pop(name, None)
            return None
        if cached and cached[1] == row:
            return cached[2]
        keys = PodKeys(row.pod_id, self._keyring.unwrap_pod_key(row))
        self._cache[name] = (index, row, keys)
        return keys

    async def create(self, name: str) -> PodKeys:
        return await self.register(name, self.stage())

    def stage(self) -> StagedPod:
        """A new pod id and key that no name points at: rows written under it stay invisible
        until :meth:`register` or :meth:`replace` (pod imports), or :meth:`discard`."""
        pod_id, key = utils.random(16), utils.random(KEY_BYTES)
        return StagedPod(pod_id, key)

    async def register(self, name: str, staged: StagedPod) -> PodKeys:
        """Give the name ``name`` to a staged pod; :class:`PodExists` when it is taken."""
        row = PodRow(staged.pod_id, self._keyring.wrap_pod_key(staged.pod_id, staged.key))
        try:
            await self._backend.create_pod(row, self._keyring.name_index(name))
        except VersionConflict:
            raise PodExists(name) from None
        return staged.keys

    async def replace(self, name: str, old: PodKeys, staged: StagedPod) -> PodKeys:
        """Give pod ``name`` (now ``old``) the staged pod's rows, atomically, and drop the
        old rows; :class:`PodGone` when ``old`` is not the pod of that name any more."""
        row = PodRow(staged.pod_id, self._keyring.wrap_pod_key(staged.pod_id, staged.key))
        self._forget(name)
        try:
            await self._backend.replace_pod(old.pod_id, row)
        except VersionConflict:
            raise PodGone(name) from None
        self._tell_gone(name, old)
        return staged.keys

    async def discard(self, staged: StagedPod) -> None:
        """Delete whatever was written under a staged pod that will never be registered."""
        await self._backend.drop_pod(staged.pod_id)

    async def destroy(self, name: str) -> PodKeys | None:
        """Crypto-shred a pod: its wrapped key goes first, then its rows. Returns the keys the
        pod had (for dropping what is cached under its id), or ``None`` if there was none."""
        keys = await self._find(name)
        self._forget(name)
        if keys is None:
            return None
        await self._backend.drop_pod(keys.pod_id)
        self._tell_gone(name, keys)
        return keys

    def _forget(self, name: str) -> None:
        self._cache.pop(name, None)
        found = _FOUND.get()
        if found is not None:
            found.pop(name, None)

    def on_gone(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(name, instance)`` when this process destroys or replaces the pod
        ``name`` whose instance was ``instance`` (others find out at their next lookup)."""
        self._gone.append(listener)

    def _tell_gone(self, name: str, keys: PodKeys) -> None:
        for listener in self._gone:
            listener(name, keys.instance)
