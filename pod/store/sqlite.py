"""The embedded SQLite backend (WAL): one writer connection; reader connections.

SQLite calls are microseconds, so they run on the event loop without a thread hop; a write
transaction holds an ``asyncio.Lock`` so writes of concurrent requests never interleave.

A ``read`` block is one read transaction on a reader connection of its own (kept in a small
pool): every read of the block sees one snapshot, however many commits land meanwhile (the
group commit finishes in a thread, between two reads of a request on the loop). A block opened
inside another by the same task shares its snapshot. Single reads outside blocks (pods, keys)
use one more reader connection in autocommit mode.

Group commit: each request's transaction is a savepoint inside a batch; the batch commits
(with its fsync, in a worker thread so the event loop keeps serving) as soon as no writer is
queued, and ``write`` returns only once the batch holding it is durable. Under concurrency one
fsync covers many requests; a failing request rolls back its savepoint alone.

A full disk (``SQLITE_FULL``, ``ENOSPC``, ``EDQUOT``) raises
:class:`~pod.errors.InsufficientStorage` (507) for every request whose transaction it stopped;
none of them was acknowledged, and the connection is left ready for the next write, which
succeeds once there is space again.

Durability follows ``synchronous``: ``FULL`` (the default) survives power loss, ``NORMAL``
survives a process crash. Several processes (the server and the CLI) may share one file.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import sqlite3
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path

from pod.errors import (
    ConfigError,
    InsufficientStorage,
    QuotaExceeded,
    ServiceUnavailable,
    StoreError,
    VersionConflict,
)
from pod.store.base import ABSENT, APPEND_SLICE, TABLES, Append, PodRow, Record, Row, one_per_pod

SCHEMA = """
CREATE TABLE IF NOT EXISTS keyring (name TEXT PRIMARY KEY, wrapped BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pods (
    pod_id BLOB PRIMARY KEY, name_index BLOB NOT NULL UNIQUE, wrapped_key BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    pod_id BLOB NOT NULL, key BLOB NOT NULL, version BLOB NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (pod_id, key)) WITHOUT ROWID;
"""


def _connect(path: Path, synchronous: str, opened: list[sqlite3.Connection], *,
             mmap_mb: int = 0, cache_mb: int = 2) -> sqlite3.Connection:
    """A connection in WAL mode; ``mmap_mb`` MiB of the file read through memory mapping
    (fewer ``pread`` calls on a large database) and ``cache_mb`` MiB of page cache."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    opened.append(conn)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute(f"PRAGMA mmap_size = {int(mmap_mb) * 1024 * 1024}")
    conn.execute(f"PRAGMA cache_size = -{int(cache_mb) * 1024}")  # negative: KiB
    return conn


log = logging.getLogger("commonpod")
FULL_DETAIL = "the server's storage is full: nothing of this request was written; try later"


def _is_full(exc: BaseException) -> bool:
    code: int | None = getattr(exc, "sqlite_errorcode", None)
    if code is not None:  # extended result codes keep the primary code in the low byte
        return code & 0xFF == sqlite3.SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


@contextmanager
def _storage() -> Iterator[None]:
    """Raise a full disk as :class:`InsufficientStorage`; other faults pass unchanged."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        if _is_full(exc):
            raise InsufficientStorage(FULL_DETAIL) from exc
        raise


def _probe_write(conn: sqlite3.Connection) -> None:
    """Fail now, not at the first request, when SQLite fell back to opening the file read-only
    (it does so silently when the file is write-protected); the probe changes nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM keyring WHERE 0")
    finally:
        conn.execute("ROLLBACK")


VERSIONS_AT_ONCE = 500
"""Keys looked up in one query by ``versions`` (SQLite's bound on parameters is far above)."""
FEW = 8
"""``get_many`` of at most this many keys queries each alone: SQLite answers a lookup by key in
about 5 µs, while an ``IN`` list of a few keys costs more than the lookups together (it builds
an index of the list first)."""
PURGE_EVERY = 1000
"""Expired marks, events and messages are deleted at every this many of them."""
MAX_EVENTS = 1_000_000
"""The most events kept (the oldest go first), however many keys clients make up."""
MAX_MESSAGES = 100_000
"""The most messages kept (the oldest go first), however fast they are published."""
IDLE_READERS = 8
"""Reader connections kept open for read blocks when no block uses them (more are opened while
more blocks are open at once, and closed when they end)."""
MAX_READERS = 16
"""Most reader connections open for read blocks at once (two open files each); a block beyond
waits for one, at most :data:`READER_WAIT` seconds (then 503, as PostgreSQL's pool does)."""
READER_WAIT = 30.0
BUSY_WAIT = 10.0
"""Seconds a write waits for another process's write transaction to end before failing."""
BATCH_TURNS = 3
"""Turns of the event loop a new group-commit batch stays open before it commits: requests
being handled meanwhile reach their writes and join it, so one commit and its sync serve more
of them (PUT, POST and PATCH under load: 5-28 % less CPU per request than committing at the
first chance). An idle loop turns in microseconds, so a lone write hardly waits."""


async def _begin_immediate(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE`` on the writer, whose busy timeout is zero: while another process
    (another worker, the CLI) holds the database's write lock, wait for it on the event loop,
    in short sleeps, instead of inside SQLite — which would stop every request of this
    process for as long."""
    loop = asyncio.get_running_loop()
    deadline, pause = loop.time() + BUSY_WAIT, 0.0005
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != sqlite3.SQLITE_BUSY \
                    or loop.time() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.02)


_APPEND = (
    "INSERT INTO records (pod_id, key, version, value) SELECT ?1, ?2, ?3, ?4 "
    "WHERE ?5 IS NULL OR EXISTS (SELECT 1 FROM records WHERE pod_id = ?1 AND key = ?5) "
    "ON CONFLICT DO NOTHING")
"""One :class:`Append`: stored where no record is, after the record it names (if any)."""


class _Reader:
    __slots__ = ("_conn", "_pod")

    def __init__(self, conn: sqlite3.Connection, pod: bytes):
        self._conn, self._pod = conn, pod

    async def get(self, key: bytes) -> Record | None:
        row = self._conn.execute(
            "SELECT value, version FROM records WHERE pod_id = ? AND key = ?", (self._pod, key)
        ).fetchone()
        return Record(row[0], row[1]) if row else None

    async def get_many(self, keys: list[bytes]) -> list[Record | None]:
        if len(keys) <= FEW:  # in-process queries: one each costs less than an IN list's
            return [await self.get(key) for key in keys]
        found: dict[bytes, Record] = {}
        for start in range(0, len(keys), VERSIONS_AT_ONCE):
            chunk = keys[start:start + VERSIONS_AT_ONCE]
            marks = ", ".join("?" * len(chunk))  # placeholders only: the keys are bound
            for key, value, version in self._conn.execute(
                    f"SELECT key, value, version FROM records WHERE pod_id = ? AND key IN ({marks})",  # noqa: S608, E501
                    (self._pod, *chunk)):
                found[key] = Record(value, version)
        return [found.get(key) for key in keys]

    async def versions(self, keys: list[bytes]) -> list[bytes | None]:
        found: dict[bytes, bytes] = {}
        for start in range(0, len(keys), VERSIONS_AT_ONCE):
            chunk = keys[start:start + VERSIONS_AT_ONCE]
            marks = ", ".join("?" * len(chunk))  # placeholders only: the keys are bound
            found.update(self._conn.execute(
                f"SELECT key, version FROM records WHERE pod_id = ? AND key IN ({marks})",  # noqa: S608
                (self._pod, *chunk)).fetchall())
        return [found.get(key) for key in keys]


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
        with _storage():
            self._conn.execute(
                "INSERT OR REPLACE INTO records (pod_id, key, version, value) "
                "VALUES (?, ?, ?, ?)", (self._pod, key, version, value))

    async def delete(self, key: bytes, expect: bytes | None = None) -> bool:
        self._check(key, expect)
        with _storage():
            cur = self._conn.execute(
                "DELETE FROM records WHERE pod_id = ? AND key = ?", (self._pod, key))
        return cur.rowcount > 0


class SQLiteBackend:
    """A :class:`~pod.store.base.Backend` in one SQLite file."""

    def __init__(self, path: Path, synchronous: str = "FULL", *, mmap_mb: int = 0,
                 cache_mb: int = 2):
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError("synchronous must be FULL or NORMAL")
        self.path = path
        opened: list[sqlite3.Connection] = []
        try:
            if not path.exists():  # owner-only, like the key; SQLite gives -wal, -shm its mode
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            self._writer = _connect(path, synchronous, opened, cache_mb=cache_mb)
            self._writer.executescript(SCHEMA)
            _probe_write(self._writer)
            # from now on a busy database is waited for on the event loop (_begin_immediate)
            self._writer.execute("PRAGMA busy_timeout = 0")
            self._reader = _connect(path, synchronous, opened, mmap_mb=mmap_mb,
                                    cache_mb=cache_mb)
            self._idle = [_connect(path, synchronous, opened, mmap_mb=mmap_mb,
                                   cache_mb=cache_mb)]  # for read blocks
        except (OSError, sqlite3.Error) as exc:
            for conn in opened:
                conn.close()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ConfigError(f"cannot open the database {path}: {reason} (the data "
                              "directory and the database must be writable by this user)") from None
        self._lock = asyncio.Lock()
        self._batch: asyncio.Future[None] | None = None  # open batch, resolved at its commit
        self._full = False  # told the operator the disk is full, not yet that it is not
        self._marks: sqlite3.Connection | None = None  # opened at the first mark_once
        self._settings = synchronous, mmap_mb, cache_mb
        self._readers = asyncio.Semaphore(MAX_READERS)  # read blocks' connections, held
        self._reading: ContextVar[tuple[asyncio.Task[object] | None, sqlite3.Connection]
                                  | None] = ContextVar(f"commonpod-sqlite-read-{id(self)}",
                                                       default=None)
        self._marked = 0

    def _note(self, full: bool) -> None:
        """Log once when the disk fills up and once when writes succeed again."""
        if full != self._full:
            self._full = full
            if full:
                log.error("the disk holding %s is full: writes answer 507 until space is freed",
                          self.path)
            else:
                log.warning("writes to %s succeed again", self.path)

    @asynccontextmanager
    async def read(self, pod: bytes) -> AsyncIterator[_Reader]:
        task = asyncio.current_task()
        held = self._reading.get()
        if held is not None and held[0] is task:  # a read inside a read (a decision reading
            yield _Reader(held[1], pod)  # another pod): the same snapshot
            return
        if self._readers.locked():  # every connection is held (by blocks awaiting fetches)
            try:
                await asyncio.wait_for(self._readers.acquire(), READER_WAIT)
            except TimeoutError:
                raise ServiceUnavailable("the server is too busy to read now; try again",
                                         headers={"Retry-After": "5"}) from None
        else:
            await self._readers.acquire()
        try:
            conn = self._idle.pop() if self._idle else self._open_reader()
            conn.execute("BEGIN")  # deferred: the snapshot is taken at the block's first read
            token = self._reading.set((task, conn))
            try:
                yield _Reader(conn, pod)
            finally:
                self._reading.reset(token)
                conn.execute("COMMIT")  # nothing written: ends the snapshot (WAL reusable)
                if len(self._idle) < IDLE_READERS:
                    self._idle.append(conn)
                else:
                    conn.close()
        finally:
            self._readers.release()

    def _open_reader(self) -> sqlite3.Connection:
        synchronous, mmap_mb, cache_mb = self._settings
        return _connect(self.path, synchronous, [], mmap_mb=mmap_mb, cache_mb=cache_mb)

    @asynccontextmanager
    async def _begin(self) -> AsyncIterator[sqlite3.Connection]:
        """A transaction of its own, committed before returning (administrative writes)."""
        async with self._lock:
            await self._commit_batch()
            conn = self._writer
            await _begin_immediate(conn)
            try:
                with _storage():
                    yield conn
                    conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled back already (disk full)
                    conn.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def write(self, pod: bytes) -> AsyncIterator[_Transaction]:
        async with self._in_batch() as conn:
            yield _Transaction(conn, pod)

    async def append_many(self, items: list[Append]) -> list[bool]:
        one_per_pod(items)
        stored = []
        async with self._in_batch() as conn:
            for start in range(0, len(items), APPEND_SLICE):
                if start:  # let requests run between slices (the batch stays ours meanwhile)
                    await asyncio.sleep(0)
                with _storage():
                    stored += [conn.execute(_APPEND, (item.pod, item.key, item.version,
                                                      item.value, item.after)).rowcount == 1
                               for item in items[start:start + APPEND_SLICE]]
        return stored

    @asynccontextmanager
    async def _in_batch(self) -> AsyncIterator[sqlite3.Connection]:
        """A savepoint of the writer in the open group-commit batch (one is begun when none
        is open); once the block is done, waits for the batch's commit."""
        async with self._lock:
            if self._batch is None:
                with _storage():
                    await _begin_immediate(self._writer)
                self._batch = asyncio.get_running_loop().create_future()
                asyncio.get_running_loop().create_task(self._flush())
            batch = self._batch
            self._writer.execute("SAVEPOINT request")
            try:
                yield self._writer
            except BaseException as exc:
                if isinstance(exc, InsufficientStorage) and not isinstance(exc, QuotaExceeded):
                    self._note(full=True)  # (a pod's quota is not the disk's)
                self._undo(batch, exc)
                raise
            self._writer.execute("RELEASE request")
        await asyncio.shield(batch)

    def _undo(self, batch: asyncio.Future[None], exc: BaseException) -> None:
        """Roll back one request's savepoint. If SQLite already rolled back the whole batch
        (it may on a full disk or an I/O error), the batch's other requests — none of them
        acknowledged yet — fail with the same kind of error."""
        if self._writer.in_transaction:
            self._writer.execute("ROLLBACK TO request")
            self._writer.execute("RELEASE request")
            return
        if self._batch is batch:
            self._batch = None
            batch.set_exception(InsufficientStorage(FULL_DETAIL)
                                if isinstance(exc, InsufficientStorage)
                                else StoreError(f"transaction rolled back: {exc}"))
            batch.exception()  # retrieved: each waiter re-raises it

    async def _flush(self) -> None:
        """Commit the open batch once the writers queued before this task have joined it,
        :data:`BATCH_TURNS` turns of the event loop after it was opened."""
        for _ in range(BATCH_TURNS):
            await asyncio.sleep(0)
        async with self._lock:
            with contextlib.suppress(Exception):  # a failed commit was given to its writers
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
            if _is_full(exc):
                self._note(full=True)
            batch.set_exception(InsufficientStorage(FULL_DETAIL) if _is_full(exc)
                                else StoreError(f"commit failed: {exc}"))
            batch.exception()  # retrieved: each waiter re-raises it
            raise
        batch.set_result(None)
        if self._full:
            self._note(full=False)

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

    async def replace_pod(self, old: bytes, new: PodRow) -> None:
        async with self._begin() as conn:
            cur = conn.execute("UPDATE pods SET pod_id = ?, wrapped_key = ? WHERE pod_id = ?",
                               (new.pod_id, new.wrapped_key, old))
            if cur.rowcount != 1:
                raise VersionConflict("the pod to replace is not registered any more")
        async with self._begin() as conn:
            conn.execute("DELETE FROM records WHERE pod_id = ?", (old,))

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

    # --- whole-store copies (pod.store.base.Copyable) ---------------------------------------

    async def dump(self) -> AsyncGenerator[tuple[str, Row], None]:
        conn = sqlite3.connect(self.path, isolation_level=None)  # a snapshot of its own
        try:
            conn.execute("BEGIN")
            for table, columns in TABLES.items():
                order = ", ".join(columns[:2] if table == "records" else columns[:1])
                query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"  # noqa: S608
                for row in conn.execute(query):  # (table and column names are constants)
                    yield table, tuple(row)
            conn.execute("COMMIT")
        finally:
            conn.close()

    async def load(self, rows: AsyncIterable[tuple[str, Row]]) -> None:
        async with self._begin() as conn:
            async for table, row in rows:
                columns = TABLES[table]
                conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                             f"VALUES ({', '.join('?' * len(columns))})", row)

    async def clear(self) -> None:
        async with self._begin() as conn:
            for table in TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 (constant names)

    async def mark_once(self, key: bytes, expires: float) -> bool:
        conn = self._marks_connection()
        now = time.time()
        self._marked += 1
        if self._marked % PURGE_EVERY == 0:
            conn.execute("DELETE FROM marks WHERE expires < ?", (now,))
        cur = conn.execute(
            "INSERT INTO marks VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
            "SET expires = excluded.expires WHERE marks.expires < ?", (key, expires, now))
        return cur.rowcount == 1

    async def add_event(self, key: bytes, at: float, expires: float, keep: int) -> None:
        conn = self._marks_connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT INTO events VALUES (?, ?, ?)", (key, at, expires))
            conn.execute("DELETE FROM events WHERE key = ? AND at NOT IN (SELECT at FROM events "
                         "WHERE key = ? ORDER BY at DESC LIMIT ?)", (key, key, keep))
            if self._marked % PURGE_EVERY == 0:
                conn.execute("DELETE FROM events WHERE expires < ?", (time.time(),))
                conn.execute("DELETE FROM events WHERE rowid IN (SELECT rowid FROM events "
                             "ORDER BY at LIMIT max(0, (SELECT count(*) FROM events) - ?))",
                             (MAX_EVENTS,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._marked += 1

    async def events(self, key: bytes, now: float) -> list[float]:
        rows = self._marks_connection().execute(
            "SELECT at FROM events WHERE key = ? AND expires > ? ORDER BY at",
            (key, now)).fetchall()
        return [row[0] for row in rows]

    async def clear_events(self, prefix: bytes) -> None:
        self._marks_connection().execute(
            "DELETE FROM events WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))

    async def publish(self, data: bytes, expires: float) -> int:
        # SQLite serialises writers, and the number is taken inside the write transaction:
        # numbers are given in commit order. AUTOINCREMENT never gives one again, even once
        # the rows are deleted (sqlite_sequence keeps the highest).
        conn = self._marks_connection()
        self._marked += 1
        conn.execute("BEGIN IMMEDIATE")
        try:
            seq = conn.execute("INSERT INTO messages (expires, data) VALUES (?, ?)",
                               (expires, data)).lastrowid
            if self._marked % PURGE_EVERY == 0:
                conn.execute("DELETE FROM messages WHERE expires < ?", (time.time(),))
                conn.execute("DELETE FROM messages WHERE seq <= (SELECT seq FROM messages "
                             "ORDER BY seq DESC LIMIT 1 OFFSET ?)", (MAX_MESSAGES,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        assert seq is not None  # (an INSERT into a rowid table sets it)
        return seq

    async def messages(self, after: int, now: float, limit: int = 1000) -> list[tuple[int, bytes]]:
        rows = self._marks_connection().execute(
            "SELECT seq, data FROM messages WHERE seq > ? AND expires > ? ORDER BY seq LIMIT ?",
            (after, now, limit)).fetchall()
        return [(row[0], row[1]) for row in rows]

    async def purge_messages(self, now: float) -> int:
        return self._marks_connection().execute(
            "DELETE FROM messages WHERE expires < ?", (now,)).rowcount

    async def last_message(self) -> int:
        row = self._marks_connection().execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
        return row[0] if row else 0

    def _marks_connection(self) -> sqlite3.Connection:
        """The own file of the marks, events and messages beside the database
        (``NAME-marks``, owner-only), opened at first use: they are ephemeral, so it is
        written without waiting for the disk, and a request's mark never waits for the
        database's group commit."""
        if self._marks is None:
            path = self.path.with_name(self.path.name + "-marks")
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 2000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("CREATE TABLE IF NOT EXISTS marks (key BLOB PRIMARY KEY, "
                         "expires REAL NOT NULL) WITHOUT ROWID")
            conn.execute("CREATE TABLE IF NOT EXISTS events (key BLOB NOT NULL, "
                         "at REAL NOT NULL, expires REAL NOT NULL)")
            conn.execute("CREATE INDEX IF NOT EXISTS events_by_key ON events (key, at)")
            conn.execute("CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY "
                         "AUTOINCREMENT, expires REAL NOT NULL, data BLOB NOT NULL)")
            self._marks = conn
        return self._marks

    async def close(self) -> None:
        async with self._lock:
            await self._commit_batch()
        self._reader.close()
        for conn in self._idle:
            conn.close()
        self._writer.close()
        if self._marks is not None:
            self._marks.close()
