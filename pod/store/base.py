"""The storage contract: a small, dumb store of opaque bytes, scoped by pod.

Backends know nothing of Solid, RDF or ACLs, and never see a plaintext name: keys arrive
blinded and values sealed (``pod.store.sealed``). Every call names its pod.

Obligations of every backend (checked by ``tests/test_store_contract.py``):

* ``read(pod)`` yields a :class:`Reader`; ``get`` of a missing key returns ``None``, and
  ``get_many``/``versions`` answer for several keys in one query, in the keys' order.
* ``write(pod)`` yields a :class:`Transaction`; everything done in it commits atomically when
  the block exits normally, durably before ``write`` returns, and is rolled back entirely when
  it raises. Writes of one pod are serialised: a transaction sees every earlier commit.
* ``put``/``delete`` with ``expect`` compare the current version first and raise
  :class:`~pod.errors.VersionConflict` on mismatch (``ABSENT`` expects no record).
* ``append_many(items)`` adds one new record to each of many pods in one commit, durably before
  it returns, serialised with each pod's other writes: each :class:`Append` is stored only where
  no record is under its key and, with ``after``, only if a record was under ``after`` (in the
  same pod) before the call; it answers which were stored. At most one item per pod.
* Pods and their wrapped keys live in the backend too (``create_pod``, ``find_pod``,
  ``drop_pod``); ``drop_pod`` destroys the wrapped key in its own commit *before* it removes
  any data row, so a crash in between leaves only rows nobody can open.
* ``replace_pod(old, new)`` points the name of pod ``old`` at the new pod row ``new`` in one
  commit (:class:`~pod.errors.VersionConflict` when ``old`` is not registered any more), then
  removes ``old``'s rows in a commit of its own: a pod written under an id no name points at
  yet (an import) becomes visible at once and whole.
* Server-level wrapped keys live in a keyring (``get_key``/``set_keys``); ``set_keys``
  replaces several atomically, together with every pod's wrapped key (key rotation).
* A store that cannot take a write because its disk is full raises
  :class:`~pod.errors.InsufficientStorage` (507); one whose database cannot be reached raises
  :class:`~pod.errors.ServiceUnavailable` (503). Neither acknowledges anything.

* ``mark_once(key, expires)`` records an ephemeral mark (a DPoP proof's ``jti``) shared by
  every process using the store: ``True`` the first time, ``False`` while an unexpired mark
  with that key exists. Marks are not user data and not durable (a crash may forget them; they
  last about a minute), and are never copied.
* ``add_event``, ``events`` and ``clear_events`` keep ephemeral event times by blinded key (failed
  sign-ins), shared by every process using the store in the same way: ``events`` gives the
  unexpired times of a key, oldest first; at most ``keep`` of a key are kept (the newest), and
  a backend may drop the oldest events of all beyond a bound of its own (a million).
* ``publish``, ``messages`` and ``last_message`` keep an ephemeral message feed (Solid
  Notifications between processes) shared in the same way: ``publish`` numbers each message,
  and numbers strictly increase in commit order, so a reader that has read up to ``n`` never
  later finds a new message numbered ``n`` or less. ``last_message`` never goes backwards (not
  even once the messages are deleted): a new reader starts there. Messages are opaque bytes
  (sealed by the caller), not user data, not durable, never copied; expired ones are deleted
  now and then, and at once by ``purge_messages``, and a backend may drop the oldest beyond a
  bound of its own (100,000).

Moving a deployment between backends (``commonpod store copy``) uses :class:`Copyable`: every
row of the three tables as it is, sealed, in one snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
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


@dataclass(frozen=True, slots=True)
class Append:
    """One new record for :meth:`Backend.append_many`: ``value`` sealed with ``version`` under
    ``key`` of pod ``pod``, stored only where no record is, and (with ``after``) only if a
    record is under ``after``."""

    pod: bytes
    key: bytes
    value: bytes
    version: bytes
    after: bytes | None = None


APPEND_SLICE: Final = 8
"""Items of an :meth:`Backend.append_many` sealed or stored between two turns of the event
loop: a flush of the access log appends to dozens of pods at once, and done in one go on the
loop it held every request up for milliseconds (issue #16)."""


def one_per_pod(items: list[Append]) -> None:
    """``ValueError`` unless every item of an :meth:`Backend.append_many` names its own pod."""
    if len({item.pod for item in items}) != len(items):
        raise ValueError("append_many takes at most one item per pod")


class Reader(Protocol):
    async def get(self, key: bytes) -> Record | None:
        """The record under ``key``, or ``None``."""
        ...

    async def get_many(self, keys: list[bytes]) -> list[Record | None]:
        """The record under each of ``keys`` (``None``: none), in one go."""
        ...

    async def versions(self, keys: list[bytes]) -> list[bytes | None]:
        """The version of the record under each of ``keys`` (``None``: none), in one go."""
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

    async def append_many(self, items: list[Append]) -> list[bool]:
        """Store each of ``items`` where it may be (see :class:`Append`), all in one commit;
        whether each was stored, in order. ``ValueError`` when two items name one pod."""
        ...

    async def create_pod(self, pod: PodRow, name_index: bytes) -> None:
        """Register a pod; raises ``VersionConflict`` when ``name_index`` is taken."""
        ...

    async def find_pod(self, name_index: bytes) -> PodRow | None: ...

    async def drop_pod(self, pod_id: bytes) -> None: ...

    async def replace_pod(self, old: bytes, new: PodRow) -> None:
        """Give pod ``old``'s name to ``new`` (whose rows are written already), atomically;
        then drop ``old``'s rows. Raises ``VersionConflict`` when ``old`` is not registered."""
        ...

    def pods(self) -> AsyncIterator[PodRow]: ...

    async def get_key(self, name: str) -> bytes | None: ...

    async def set_keys(self, keys: dict[str, bytes], pods: dict[bytes, bytes]) -> None:
        """Atomically replace named keyring entries and the wrapped keys of ``pods``."""
        ...

    async def mark_once(self, key: bytes, expires: float) -> bool:
        """Mark ``key`` until ``expires`` (Unix time); ``False`` if it is marked already."""
        ...
    async def add_event(self, key: bytes, at: float, expires: float, keep: int) -> None:
        """Note an event of ``key`` at ``at`` (Unix time), kept until ``expires``."""
        ...
    async def events(self, key: bytes, now: float) -> list[float]:
        """The events of ``key`` unexpired at ``now``, oldest first."""
        ...
    async def clear_events(self, prefix: bytes) -> None:
        """Forget the events of every key that starts with ``prefix``."""
        ...
    async def publish(self, data: bytes, expires: float) -> int:
        """Append ``data`` to the message feed every process sharing the store reads, kept
        until ``expires`` (Unix time); its sequence number (> 0)."""
        ...
    async def messages(self, after: int, now: float, limit: int = 1000) -> list[tuple[int, bytes]]:
        """The feed's messages numbered above ``after`` and unexpired at ``now``, in order, at
        most ``limit``."""
        ...
    async def last_message(self) -> int:
        """The highest sequence number given so far (0 when none): where a new reader starts."""
        ...
    async def purge_messages(self, now: float) -> int:
        """Delete the messages expired at ``now`` (however few were published since the last
        purge); how many went."""
        ...
    async def close(self) -> None: ...


TABLES: Final = {
    "keyring": ("name", "wrapped"),
    "pods": ("pod_id", "name_index", "wrapped_key"),
    "records": ("pod_id", "key", "version", "value"),
}
"""The three tables every backend keeps, with their columns in the order rows carry them."""

Row = tuple[str | bytes, ...]
"""One row of a table: a keyring name is text, every other column opaque bytes."""


class Copyable(Protocol):
    """Every row of a store as it is (nothing opened), to move a deployment elsewhere."""

    def dump(self) -> AsyncGenerator[tuple[str, Row], None]:
        """``(table, row)`` for every row, table by table in :data:`TABLES` order and each in
        primary key order (bytewise), all from one snapshot."""
        ...

    async def load(self, rows: AsyncIterable[tuple[str, Row]]) -> None:
        """Insert ``rows`` (as :meth:`dump` yields them) in one transaction."""
        ...

    async def clear(self) -> None:
        """Delete every row of the three tables in one transaction."""
        ...


class CopyableBackend(Backend, Copyable, Protocol):
    """What :func:`pod.store.backends.open_backend` returns: a backend whose rows can move."""
