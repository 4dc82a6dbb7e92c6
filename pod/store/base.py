"""The storage contract: a small, dumb store of opaque bytes, scoped by pod.

Backends know nothing of Solid, RDF or ACLs, and never see a plaintext name: keys arrive
blinded and values sealed (``pod.store.sealed``). Every call names its pod.

Obligations of every backend (checked by ``tests/test_store_contract.py``):

* ``read(pod)`` yields a :class:`Reader`; ``get`` of a missing key returns ``None``.
* ``write(pod)`` yields a :class:`Transaction`; everything done in it commits atomically when
  the block exits normally, durably before ``write`` returns, and is rolled back entirely when
  it raises. Writes of one pod are serialised: a transaction sees every earlier commit.
* ``put``/``delete`` with ``expect`` compare the current version first and raise
  :class:`~pod.errors.VersionConflict` on mismatch (``ABSENT`` expects no record).
* Pods and their wrapped keys live in the backend too (``create_pod``, ``find_pod``,
  ``drop_pod``); ``drop_pod`` destroys the wrapped key in its own commit *before* it removes
  any data row, so a crash in between leaves only rows nobody can open.
* Server-level wrapped keys live in a keyring (``get_key``/``set_keys``); ``set_keys``
  replaces several atomically, together with every pod's wrapped key (key rotation).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Final, Protocol


@dataclass(frozen=True, slots=True)
class Record:
    """What a backend holds under one key: a sealed value and the version it was sealed with."""

    value: bytes
    version: bytes


ABSENT: Final = b""
"""``expect=ABSENT``: the write succeeds only if no record exists under the key."""


@dataclass(frozen=True, slots=True)
class PodRow:
    """A pod as the backend knows it: an opaque id and its key, wrapped by the master key."""

    pod_id: bytes
    wrapped_key: bytes


class Reader(Protocol):
    async def get(self, key: bytes) -> Record | None:
        """The record under ``key``, or ``None``."""
        ...


class Transaction(Reader, Protocol):
    async def put(
        self, key: bytes, value: bytes, version: bytes, expect: bytes | None = None
    ) -> None:
        """Store ``value`` sealed with ``version`` under ``key``."""
        ...

    async def delete(self, key: bytes, expect: bytes | None = None) -> bool:
        """Remove ``key``; ``True`` if a record was removed."""
        ...


class Backend(Protocol):
    def read(self, pod: bytes) -> AbstractAsyncContextManager[Reader]: ...

    def write(self, pod: bytes) -> AbstractAsyncContextManager[Transaction]: ...

    async def create_pod(self, pod: PodRow, name_index: bytes) -> None:
        """Register a pod; raises ``VersionConflict`` when ``name_index`` is taken."""
        ...

    async def find_pod(self, name_index: bytes) -> PodRow | None: ...

    async def drop_pod(self, pod_id: bytes) -> None: ...

    def pods(self) -> AsyncIterator[PodRow]: ...

    async def get_key(self, name: str) -> bytes | None: ...

    async def set_keys(self, keys: dict[str, bytes], pods: dict[bytes, bytes]) -> None:
        """Atomically replace named keyring entries and the wrapped keys of ``pods``."""
        ...

    async def close(self) -> None: ...
