"""The embedded SQLite backend (WAL): one writer connection, one reader connection.

SQLite calls are microseconds, so they run on the event loop without a thread hop; a write
transaction holds an ``asyncio.Lock`` so writes of concurrent requests never interleave.

Group commit: each request's transaction is a savepoint inside a batch; the batch commits
(with its fsync, in a worker thread so the event loop keeps serving) as soon as no writer is
queued, and ``write`` returns only once the batch holding it is durable. Under concurrency one
fsync covers many requests; a failing request rolls back its savepoint alone.

Durability follows ``synchronous``: ``FULL`` (the default) survives power loss, ``NORMAL``
survives a process crash. Several processes (the server and the CLI) may share one file.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pod.errors import StoreError, VersionConflict
from pod.store.base import ABSENT, PodRow, Record

SCHEMA = """
CREATE TABLE IF NOT EXISTS keyring (name TEXT PRIMARY KEY, wrapped BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pods (
    pod_id BLOB PRIMARY KEY, name_index BLOB NOT NULL UNIQUE, wrapped_key BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    pod_id BLOB NOT NULL, key BLOB NOT NULL, version BLOB NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (pod_id, key)) WITHOUT ROWID;
"""


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


class _Reader:
    __slots__ = ("_conn", "_pod")

    def __init__(self, conn: sqlite3.Connection, pod: bytes):
        self._conn, self._pod = conn, pod

    async def get(self, key: bytes) -> Record | None:
        row = self._conn.execute(
            "SELECT value, version FROM records WHERE pod_id = ? AND key = ?", (self._pod, key)
        ).fetchone()
        return Record(row[0], row[1]) if row else None


class _Transaction(_Reader):
    __slots__ = ()

    def _check(self, key: bytes, expect: bytes | None) -> None:
        if expect is None:
            return
        row = self._conn.execute(
            "SELECT version FROM records WHERE pod_id = ? AND key = ?", (self._pod, key)
        ).fetchone()
        current = row[0] if row else ABSENT
        if current != expect:
            raise VersionConflict("record changed since it was read")

    async def put(
        self, key: bytes, value: bytes, version: bytes, expect: bytes | None = None
    ) -> None:
        self._check(key, expect)
        self._conn.execute(
            "INSERT OR REPLACE INTO records (pod_id, key, version, value) VALUES (?, ?, ?, ?)",
            (self._pod, key, version, value),
        )

    async def delete(self, key: bytes, expect: bytes | None = None) -> bool:
        self._check(key, expect)
        cur = self._conn.execute(
            "DELETE FROM records WHERE pod_id = ? AND key = ?", (self._pod, key)
        )
        return cur.rowcount > 0


class SQLiteBackend:
    """A :class:`~pod.store.base.Backend` in one SQLite file."""

    def __init__(self, path: Path, synchronous: str = "FULL"):
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self.path = path
        if not path.exists():  # owner-only, like the key; SQLite gives -wal and -shm its mode
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._writer = _connect(path, synchronous)
        self._writer.executescript(SCHEMA)
        self._reader = _connect(path, synchronous)
        self._lock = asyncio.Lock()
        self._batch: asyncio.Future[None] | None = None  # open batch, resolved at its commit

    @asynccontextmanager
    async def read(self, pod: bytes) -> AsyncIterator[_Reader]:
        yield _Reader(self._reader, pod)

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[sqlite3.Connection]:
        """A transaction of its own, committed before returning (administrative writes)."""
        async with self._lock:
            await self._commit_batch()
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @asynccontextmanager
    async def write(self, pod: bytes) -> AsyncIterator[_Transaction]:
        async with self._lock:
            if self._batch is None:
                self._writer.execute("BEGIN IMMEDIATE")
                self._batch = asyncio.get_running_loop().create_future()
                asyncio.get_running_loop().create_task(self._flush())
            batch = self._batch
            self._writer.execute("SAVEPOINT request")
            try:
                yield _Transaction(self._writer, pod)
            except BaseException:
                self._writer.execute("ROLLBACK TO request")
                self._writer.execute("RELEASE request")
                raise
            self._writer.execute("RELEASE request")
        await asyncio.shield(batch)

    async def _flush(self) -> None:
        """Commit the open batch once the writers queued before this task have joined it."""
        async with self._lock:
            await self._commit_batch()

    async def _commit_batch(self) -> None:
        batch, self._batch = self._batch, None
        if batch is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.execute,
                                                             "COMMIT")
        except BaseException as exc:
            if self._writer.in_transaction:
                self._writer.execute("ROLLBACK")
            batch.set_exception(StoreError(f"commit failed: {exc}"))
            batch.exception()  # retrieved: each waiter re-raises it
            raise
        batch.set_result(None)

    async def create_pod(self, pod: PodRow, name_index: bytes) -> None:
        async with self._begin() as conn:
            try:
                conn.execute(
                    "INSERT INTO pods (pod_id, name_index, wrapped_key) VALUES (?, ?, ?)",
                    (pod.pod_id, name_index, pod.wrapped_key),
                )
            except sqlite3.IntegrityError as exc:
                raise VersionConflict("a pod with this name exists") from exc

    async def find_pod(self, name_index: bytes) -> PodRow | None:
        row = self._reader.execute(
            "SELECT pod_id, wrapped_key FROM pods WHERE name_index = ?", (name_index,)
        ).fetchone()
        return PodRow(row[0], row[1]) if row else None

    async def drop_pod(self, pod_id: bytes) -> None:
        async with self._begin() as conn:
            conn.execute("DELETE FROM pods WHERE pod_id = ?", (pod_id,))
        async with self._begin() as conn:
            conn.execute("DELETE FROM records WHERE pod_id = ?", (pod_id,))

    async def pods(self) -> AsyncIterator[PodRow]:
        for pod_id, wrapped in self._reader.execute("SELECT pod_id, wrapped_key FROM pods"):
            yield PodRow(pod_id, wrapped)

    async def get_key(self, name: str) -> bytes | None:
        row = self._reader.execute(
            "SELECT wrapped FROM keyring WHERE name = ?", (name,)
        ).fetchone()
        return row[0] if row else None

    async def set_keys(self, keys: dict[str, bytes], pods: dict[bytes, bytes]) -> None:
        async with self._begin() as conn:
            for name, wrapped in keys.items():
                conn.execute("INSERT OR REPLACE INTO keyring VALUES (?, ?)", (name, wrapped))
            for pod_id, wrapped in pods.items():
                cur = conn.execute(
                    "UPDATE pods SET wrapped_key = ? WHERE pod_id = ?", (wrapped, pod_id)
                )
                if cur.rowcount != 1:
                    raise StoreError("pod vanished during key rotation")

    async def close(self) -> None:
        async with self._lock:
            await self._commit_batch()
        self._reader.close()
        self._writer.close()
