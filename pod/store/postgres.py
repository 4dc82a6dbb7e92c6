"""The PostgreSQL backend (asyncpg): the same three tables of opaque bytes, for many processes.

Two connection pools, one for reads and one for writes, so writers waiting for a pod's lock
never keep a reader (or a read made inside a write) from a connection.

* Reads run in a ``REPEATABLE READ READ ONLY`` transaction: one snapshot per ``read`` block;
  a read opened inside another by the same task (an access decision reading the grants of
  another pod) shares its connection and snapshot, so no task ever waits for a second one.
* A write is one ``READ COMMITTED`` transaction that first takes a transaction-scoped advisory
  lock keyed by the pod id (``pg_advisory_xact_lock``, its first 8 bytes), so writes of one
  pod are serialised across every process and host while other pods' run in parallel; every
  statement after the lock sees every earlier commit. The lock needs no row, so staged pods
  and the server's own records are covered too, and it ends with the transaction.
* ``write`` returns once ``COMMIT`` has returned, with ``synchronous_commit = on`` set on every
  connection under ``durability = "full"``: the commit record is flushed to the WAL first
  (``"normal"`` sets ``off``: a crash of the database server may lose the last moments of
  commits, as SQLite's ``NORMAL`` may on power loss).
* Migrations are versioned: ``schema_version`` holds the versions applied, applied under an
  advisory lock when the backend opens; a database of a newer schema than this code knows is
  refused (:class:`~pod.errors.ConfigError`).
* Faults map to the error tree: a full disk (SQLSTATE 53100) raises
  :class:`~pod.errors.InsufficientStorage`, a lost or unreachable database (or a pool that
  stays exhausted) :class:`~pod.errors.ServiceUnavailable`; either rolls the transaction back.
  A connection lost during ``COMMIT`` is reported the same way: the write was not acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterator
from contextlib import aclosing, asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Final
from urllib.parse import unquote, urlsplit

import asyncpg
import asyncpg.exceptions as pgerr
from asyncpg.pool import PoolConnectionProxy

from pod.errors import (
    ConfigError,
    InsufficientStorage,
    PodError,
    ServiceUnavailable,
    StoreError,
    VersionConflict,
)
from pod.settings import redacted
from pod.store.base import ABSENT, TABLES, Append, PodRow, Record, Row, one_per_pod

log = logging.getLogger("commonpod")

MIGRATIONS: Final[tuple[str, ...]] = (
    # 1: the three tables of opaque bytes. Sealed values are random bytes: compressing them
    # (TOAST's default for values over 2 kB) would only cost time, so they are stored as is.
    """
    CREATE TABLE keyring (name text PRIMARY KEY, wrapped bytea NOT NULL);
    CREATE TABLE pods (pod_id bytea PRIMARY KEY, name_index bytea NOT NULL UNIQUE,
                       wrapped_key bytea NOT NULL);
    CREATE TABLE records (pod_id bytea NOT NULL, key bytea NOT NULL, version bytea NOT NULL,
                          value bytea NOT NULL, PRIMARY KEY (pod_id, key));
    ALTER TABLE records ALTER COLUMN value SET STORAGE EXTERNAL;
    """,
    # 2: ephemeral marks shared by every process (DPoP proofs' jti): not written to the WAL,
    # since a mark lives about a minute and need not survive a crash
    """
    CREATE UNLOGGED TABLE marks (key bytea PRIMARY KEY, expires double precision NOT NULL);
    """,
    # 3: ephemeral events shared by every process (failed sign-ins), by blinded key
    """
    CREATE UNLOGGED TABLE events (key bytea NOT NULL, at double precision NOT NULL,
                                  expires double precision NOT NULL);
    CREATE INDEX events_by_key ON events (key, at);
    """,
    # 4: the ephemeral message feed shared by every process (Solid Notifications), numbered.
    # Its sequence is logged all the same (PostgreSQL 15 makes the sequence of an unlogged
    # table unlogged too, and resets it with the table after a crash): processes that outlive
    # a crash of the database keep reading after the numbers they saw, so none is given again
    """
    CREATE UNLOGGED TABLE messages (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                    expires double precision NOT NULL, data bytea NOT NULL);
    ALTER TABLE messages ALTER COLUMN data SET STORAGE EXTERNAL;
    DO $$ BEGIN
        IF current_setting('server_version_num')::int >= 150000 THEN
            EXECUTE format('ALTER SEQUENCE %s SET LOGGED',
                           pg_get_serial_sequence('messages', 'seq'));
        END IF;
    END $$;
    """,
)
"""Schema migrations, in order; version ``n`` is ``MIGRATIONS[n - 1]``. Append, never edit."""

MIGRATION_LOCK: Final = (0x636F6D6D, 1)  # a two-key advisory lock: apart from the pods' keys
MESSAGES_LOCK: Final = (0x636F6D6D, 2)  # held by whoever numbers a message (publish)
PURGE_EVERY: Final = 1000  # expired marks, events, messages are deleted at every this many
MAX_EVENTS: Final = 1_000_000  # the most events kept (the oldest go first)
MAX_MESSAGES: Final = 100_000  # the most messages kept (the oldest go first)
POOL_SIZE: Final = 10  # connections per pool (reads, writes) of one process
CONNECT_TIMEOUT: Final = 10.0  # seconds to open a connection
COMMAND_TIMEOUT: Final = 30.0  # seconds a statement may take before the request gets a 503
ACQUIRE_TIMEOUT: Final = 30.0  # seconds to wait for a free connection
BATCH: Final = 1000  # rows per round trip when dumping or loading a whole store
UNAVAILABLE_DETAIL: Final = ("the server's database cannot be reached: nothing of this "
                             "request was written; try again shortly")
FULL_DETAIL: Final = ("the server's storage is full: nothing of this request was written; "
                      "try later")
_UNAVAILABLE = (pgerr.PostgresConnectionError, pgerr.OperatorInterventionError,
                pgerr.InsufficientResourcesError, pgerr.InterfaceError, OSError,
                TimeoutError,
                # a statement sent on a connection the database is ending (its termination
                # notice arrived first): the driver refuses it before anything is sent
                pgerr.InternalClientError)
ORDER: Final = {"keyring": 'name COLLATE "C"', "pods": "pod_id", "records": "pod_id, key"}

Connection = asyncpg.Connection | PoolConnectionProxy


def _lock_key(pod: bytes) -> int:
    """The advisory lock of a pod: its id's first 8 bytes (ids are random) as a bigint."""
    return int.from_bytes(pod[:8].ljust(8, b"\0"), "big", signed=True)


class _Faults:
    """Maps driver faults to the error tree, and tells the operator once when the database
    fails and once when it answers again."""

    def __init__(self, where: str):
        self.where, self.down = where, False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        try:
            yield
        except pgerr.DiskFullError as exc:
            self.note(True, exc)
            raise InsufficientStorage(FULL_DETAIL) from exc
        except _UNAVAILABLE as exc:
            self.note(True, exc)
            raise ServiceUnavailable(UNAVAILABLE_DETAIL, headers={"Retry-After": "5"}) from exc
        else:
            if self.down:
                self.note(False, None)

    def note(self, down: bool, exc: BaseException | None) -> None:
        if down != self.down:
            self.down = down
            if down:
                log.error("the PostgreSQL store %s fails (%s): requests answer 503 or 507 "
                          "until it answers again", self.where, type(exc).__name__)
            else:
                log.warning("the PostgreSQL store %s answers again", self.where)


class _Reader:
    __slots__ = ("_conn", "_faults", "_pod")

    def __init__(self, conn: Connection, pod: bytes, faults: _Faults):
        self._conn, self._pod, self._faults = conn, pod, faults

    async def get(self, key: bytes) -> Record | None:
        with self._faults():
            row = await self._conn.fetchrow(
                "SELECT value, version FROM records WHERE pod_id = $1 AND key = $2",
                self._pod, key)
        return Record(row[0], row[1]) if row else None

    async def get_many(self, keys: list[bytes]) -> list[Record | None]:
        with self._faults():
            rows = await self._conn.fetch(
                "SELECT key, value, version FROM records WHERE pod_id = $1 "
                "AND key = ANY($2::bytea[])", self._pod, keys)
        found = {row[0]: Record(row[1], row[2]) for row in rows}
        return [found.get(key) for key in keys]

    async def versions(self, keys: list[bytes]) -> list[bytes | None]:
        if len(keys) == 1:  # the walk to the effective ACL: a point read, no array to send
            with self._faults():
                row = await self._conn.fetchrow(
                    "SELECT version FROM records WHERE pod_id = $1 AND key = $2",
                    self._pod, keys[0])
            return [row[0] if row else None]
        with self._faults():
            rows = await self._conn.fetch(
                "SELECT key, version FROM records WHERE pod_id = $1 AND key = ANY($2::bytea[])",
                self._pod, keys)
        found = {row[0]: row[1] for row in rows}
        return [found.get(key) for key in keys]


class _Transaction(_Reader):
    __slots__ = ()

    async def _check(self, key: bytes, expect: bytes | None) -> None:
        if expect is None:
            return
        with self._faults():
            current = await self._conn.fetchval(
                "SELECT version FROM records WHERE pod_id = $1 AND key = $2", self._pod, key)
        if (current or ABSENT) != expect:
            raise VersionConflict("record changed since it was read")

    async def put(
        self, key: bytes, value: bytes, version: bytes, expect: bytes | None = None
    ) -> None:
        await self._check(key, expect)
        with self._faults():
            await self._conn.execute(
                "INSERT INTO records (pod_id, key, version, value) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (pod_id, key) DO UPDATE "
                "SET version = EXCLUDED.version, value = EXCLUDED.value",
                self._pod, key, version, value)

    async def delete(self, key: bytes, expect: bytes | None = None) -> bool:
        await self._check(key, expect)
        with self._faults():
            status = await self._conn.execute(
                "DELETE FROM records WHERE pod_id = $1 AND key = $2", self._pod, key)
        return status != "DELETE 0"


async def _reset(conn: asyncpg.Connection) -> None:
    """Nothing to reset when a connection goes back to its pool: this backend sets no session
    state (asyncpg's default reset clears it anyway, at one more round trip per request), and
    asyncpg itself rolls back a transaction left open."""


async def _rollback(conn: Connection) -> None:
    """End a failed block's transaction before its connection goes back to the pool; a broken
    connection is dropped by the pool instead."""
    with contextlib.suppress(Exception):
        await conn.execute("ROLLBACK")


async def _migrate(conn: Connection, where: str) -> None:
    """Bring the schema up to date, one migration at a time; refuse a newer one."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", *MIGRATION_LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version ("
                           "version integer PRIMARY KEY, applied timestamptz NOT NULL)")
        current = await conn.fetchval("SELECT coalesce(max(version), 0) FROM schema_version")
        if current > len(MIGRATIONS):
            raise ConfigError(
                f"store: the database {where} has schema version {current}, newer than this "
                f"Commonpod knows ({len(MIGRATIONS)}): upgrade Commonpod; refusing to start")
        for version in range(current + 1, len(MIGRATIONS) + 1):
            await conn.execute(MIGRATIONS[version - 1])
            await conn.execute("INSERT INTO schema_version VALUES ($1, now())", version)


class PostgresBackend:
    """A :class:`~pod.store.base.Backend` in a PostgreSQL database (see the module's notes)."""

    def __init__(self, readers: asyncpg.Pool, writers: asyncpg.Pool, where: str):
        self._readers, self._writers, self.where = readers, writers, where
        self._faults = _Faults(where)
        self._marked = 0  # marks made: expired ones are deleted every PURGE_EVERY
        # the read connection the current task holds, if any: reads nested in it reuse it, so
        # a task never holds two and a busy pool can never leave every holder waiting
        self._reading: ContextVar[tuple[asyncio.Task[object] | None, Connection] | None] = \
            ContextVar(f"commonpod-read-{id(self)}", default=None)

    @classmethod
    async def open(cls, url: str, durability: str = "full") -> PostgresBackend:
        """Connect, migrate, and return the backend; :class:`ConfigError` (one line, naming
        the setting ``store``, never its password) when the database cannot be used."""
        where = redacted(url)
        sync = {"full": "on", "normal": "off"}[durability.lower()]
        pools: list[asyncpg.Pool] = []
        try:
            for _ in ("readers", "writers"):
                pools.append(await asyncpg.create_pool(
                    url, min_size=1, max_size=POOL_SIZE, reset=_reset,
                    timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT,
                    server_settings={"application_name": "commonpod",
                                     "synchronous_commit": sync}))
            async with pools[1].acquire() as conn:
                await _migrate(conn, where)
        except BaseException as exc:
            for pool in pools:
                pool.terminate()
            if isinstance(exc, ConfigError) or not isinstance(exc, Exception):
                raise
            raise ConfigError(f"store: cannot use the PostgreSQL database {where}: "
                              f"{_reason(exc, url)}") from None
        return cls(pools[0], pools[1], where)

    @asynccontextmanager
    async def _connection(self, pool: asyncpg.Pool) -> AsyncIterator[Connection]:
        try:
            with self._faults():
                conn = await pool.acquire(timeout=ACQUIRE_TIMEOUT)
        except Exception as exc:  # any refusal to connect (say, a database closed to
            if isinstance(exc, PodError):  # connections) is the database being unavailable
                raise
            self._faults.note(True, exc)
            raise ServiceUnavailable(UNAVAILABLE_DETAIL, headers={"Retry-After": "5"}) from exc
        try:
            yield conn
        finally:
            with contextlib.suppress(Exception):  # a broken connection is dropped by the pool
                await pool.release(conn)

    @asynccontextmanager
    async def read(self, pod: bytes) -> AsyncIterator[_Reader]:
        task = asyncio.current_task()
        held = self._reading.get()
        if held is not None and held[0] is task:  # a read inside a read (a decision reading
            yield _Reader(held[1], pod, self._faults)  # another pod): the same snapshot
            return
        async with self._connection(self._readers) as conn:
            with self._faults():
                await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            token = self._reading.set((task, conn))
            try:
                yield _Reader(conn, pod, self._faults)
            except BaseException:
                await _rollback(conn)
                raise
            finally:
                self._reading.reset(token)
            with self._faults():
                await conn.execute("COMMIT")

    @asynccontextmanager
    async def _transaction(self, *pods: bytes) -> AsyncIterator[Connection]:
        """A write transaction holding the locks of ``pods`` (taken in one order, so two
        transactions of several pods never wait for each other), committed before returning."""
        async with self._connection(self._writers) as conn:
            locks = "".join(f"; SELECT pg_advisory_xact_lock({key})"
                            for key in sorted({_lock_key(p) for p in pods}))
            with self._faults():
                await conn.execute("BEGIN" + locks)  # one round trip (integers only)
            try:
                yield conn
            except BaseException:
                await _rollback(conn)
                raise
            with self._faults():
                await conn.execute("COMMIT")

    @asynccontextmanager
    async def write(self, pod: bytes) -> AsyncIterator[_Transaction]:
        async with self._transaction(pod) as conn:
            yield _Transaction(conn, pod, self._faults)

    async def append_many(self, items: list[Append]) -> list[bool]:
        one_per_pod(items)
        if not items:
            return []
        async with self._transaction(*(item.pod for item in items)) as conn:
            with self._faults():
                rows = await conn.fetch(
                    "INSERT INTO records (pod_id, key, version, value) "
                    "SELECT a.pod, a.key, a.version, a.value FROM unnest($1::bytea[], "
                    "$2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[]) "
                    "AS a(pod, key, version, value, after) "
                    "WHERE a.after IS NULL OR EXISTS (SELECT 1 FROM records r "
                    "WHERE r.pod_id = a.pod AND r.key = a.after) "
                    "ON CONFLICT (pod_id, key) DO NOTHING RETURNING pod_id",
                    *([getattr(item, field) for item in items]
                      for field in ("pod", "key", "version", "value", "after")))
        stored = {row[0] for row in rows}
        return [item.pod in stored for item in items]

    async def create_pod(self, pod: PodRow, name_index: bytes) -> None:
        async with self._transaction() as conn:
            try:
                with self._faults():
                    await conn.execute(
                        "INSERT INTO pods (pod_id, name_index, wrapped_key) VALUES ($1, $2, $3)",
                        pod.pod_id, name_index, pod.wrapped_key)
            except pgerr.UniqueViolationError as exc:
                raise VersionConflict("a pod with this name exists") from exc

    async def find_pod(self, name_index: bytes) -> PodRow | None:
        async with self._connection(self._readers) as conn:
            with self._faults():
                row = await conn.fetchrow(
                    "SELECT pod_id, wrapped_key FROM pods WHERE name_index = $1", name_index)
        return PodRow(row[0], row[1]) if row else None

    async def drop_pod(self, pod_id: bytes) -> None:
        async with self._transaction() as conn:
            with self._faults():
                await conn.execute("DELETE FROM pods WHERE pod_id = $1", pod_id)
        async with self._transaction(pod_id) as conn:
            with self._faults():
                await conn.execute("DELETE FROM records WHERE pod_id = $1", pod_id)

    async def replace_pod(self, old: bytes, new: PodRow) -> None:
        async with self._transaction() as conn:
            with self._faults():
                status = await conn.execute(
                    "UPDATE pods SET pod_id = $1, wrapped_key = $2 WHERE pod_id = $3",
                    new.pod_id, new.wrapped_key, old)
            if status != "UPDATE 1":
                raise VersionConflict("the pod to replace is not registered any more")
        async with self._transaction(old) as conn:
            with self._faults():
                await conn.execute("DELETE FROM records WHERE pod_id = $1", old)

    async def pods(self) -> AsyncIterator[PodRow]:
        async with self._connection(self._readers) as conn:
            with self._faults():
                rows = await conn.fetch("SELECT pod_id, wrapped_key FROM pods ORDER BY pod_id")
        for row in rows:
            yield PodRow(row[0], row[1])

    async def get_key(self, name: str) -> bytes | None:
        async with self._connection(self._readers) as conn:
            with self._faults():
                wrapped: bytes | None = await conn.fetchval(
                    "SELECT wrapped FROM keyring WHERE name = $1", name)
        return wrapped

    async def set_keys(self, keys: dict[str, bytes], pods: dict[bytes, bytes]) -> None:
        async with self._transaction() as conn:
            with self._faults():
                for name, wrapped in keys.items():
                    await conn.execute(
                        "INSERT INTO keyring (name, wrapped) VALUES ($1, $2) "
                        "ON CONFLICT (name) DO UPDATE SET wrapped = EXCLUDED.wrapped",
                        name, wrapped)
                for pod_id, wrapped in pods.items():
                    status = await conn.execute(
                        "UPDATE pods SET wrapped_key = $1 WHERE pod_id = $2", wrapped, pod_id)
                    if status != "UPDATE 1":
                        raise StoreError("pod vanished during key rotation")

    # --- whole-store copies (pod.store.base.Copyable) ---------------------------------------

    async def dump(self) -> AsyncGenerator[tuple[str, Row], None]:
        async with self._connection(self._readers) as conn:
            with self._faults():
                await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                async with aclosing(self._rows(conn)) as rows:
                    async for item in rows:
                        yield item
            except BaseException:  # (also a consumer that stops early: GeneratorExit)
                await _rollback(conn)
                raise
            with self._faults():
                await conn.execute("COMMIT")

    async def _rows(self, conn: Connection) -> AsyncGenerator[tuple[str, Row], None]:
        for table, columns in TABLES.items():
            query = (f"SELECT {', '.join(columns)} FROM {table} "  # noqa: S608 (constants)
                     f"ORDER BY {ORDER[table]}")
            with self._faults():  # (the consumer's own faults are never thrown in here)
                async for row in conn.cursor(query, prefetch=BATCH):
                    yield table, tuple(row)

    async def load(self, rows: AsyncIterable[tuple[str, Row]]) -> None:
        async with self._transaction() as conn:
            with self._faults():
                batch: list[Row] = []
                table = ""
                async for into, row in rows:
                    if into != table or len(batch) >= BATCH:
                        await self._copy_in(conn, table, batch)
                        table, batch = into, []
                    batch.append(row)
                await self._copy_in(conn, table, batch)

    @staticmethod
    async def _copy_in(conn: Connection, table: str, batch: list[Row]) -> None:
        if batch:
            await conn.copy_records_to_table(table, records=batch, columns=list(TABLES[table]))

    async def clear(self) -> None:
        async with self._transaction() as conn:
            with self._faults():
                await conn.execute("TRUNCATE records, pods, keyring")

    async def mark_once(self, key: bytes, expires: float) -> bool:
        now = time.time()
        self._marked += 1
        async with self._connection(self._writers) as conn:
            with self._faults():
                if self._marked % PURGE_EVERY == 0:
                    await conn.execute("DELETE FROM marks WHERE expires < $1", now)
                done = await conn.fetchval(
                    "INSERT INTO marks VALUES ($1, $2) ON CONFLICT (key) DO UPDATE "
                    "SET expires = EXCLUDED.expires WHERE marks.expires < $3 RETURNING 1",
                    key, expires, now)
        return done is not None

    async def add_event(self, key: bytes, at: float, expires: float, keep: int) -> None:
        self._marked += 1
        async with self._connection(self._writers) as conn:
            with self._faults():
                async with conn.transaction():
                    await conn.execute("INSERT INTO events VALUES ($1, $2, $3)", key, at, expires)
                    await conn.execute(
                        "DELETE FROM events WHERE key = $1 AND at NOT IN (SELECT at FROM events "
                        "WHERE key = $1 ORDER BY at DESC LIMIT $2)", key, keep)
                    if self._marked % PURGE_EVERY == 0:
                        await conn.execute("DELETE FROM events WHERE expires < $1", time.time())
                        await conn.execute(
                            "DELETE FROM events WHERE ctid IN (SELECT ctid FROM events ORDER BY "
                            "at LIMIT greatest(0, (SELECT count(*) FROM events) - $1))",
                            MAX_EVENTS)

    async def events(self, key: bytes, now: float) -> list[float]:
        async with self._connection(self._readers) as conn:
            with self._faults():
                rows = await conn.fetch("SELECT at FROM events WHERE key = $1 AND expires > $2 "
                                        "ORDER BY at", key, now)
        return [row[0] for row in rows]

    async def clear_events(self, prefix: bytes) -> None:
        async with self._connection(self._writers) as conn:
            with self._faults():
                await conn.execute("DELETE FROM events WHERE substring(key FROM 1 FOR $1) = $2",
                                   len(prefix), prefix)

    async def publish(self, data: bytes, expires: float) -> int:
        # A sequence gives its numbers before commit, so two concurrent inserts could commit
        # out of order, and a reader who saw the later one would skip the earlier for good.
        # Publishers are therefore serialised: the number is taken under a transaction-scoped
        # advisory lock, which PostgreSQL releases only once the commit is visible to all, so
        # a message becomes visible only after every lower-numbered one did (or rolled back).
        self._marked += 1
        async with self._connection(self._writers) as conn:
            with self._faults():
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", *MESSAGES_LOCK)
                    seq: int = await conn.fetchval(
                        "INSERT INTO messages (expires, data) VALUES ($1, $2) RETURNING seq",
                        expires, data)
                    if self._marked % PURGE_EVERY == 0:
                        await conn.execute("DELETE FROM messages WHERE expires < $1",
                                           time.time())
                        await conn.execute(
                            "DELETE FROM messages WHERE seq <= (SELECT seq FROM messages "
                            "ORDER BY seq DESC OFFSET $1 LIMIT 1)", MAX_MESSAGES)
        return seq

    async def messages(self, after: int, now: float, limit: int = 1000) -> list[tuple[int, bytes]]:
        async with self._connection(self._readers) as conn:
            with self._faults():
                rows = await conn.fetch(
                    "SELECT seq, data FROM messages WHERE seq > $1 AND expires > $2 "
                    "ORDER BY seq LIMIT $3", after, now, limit)
        return [(row[0], row[1]) for row in rows]

    async def purge_messages(self, now: float) -> int:
        async with self._connection(self._writers) as conn:
            with self._faults():
                done: str = await conn.execute("DELETE FROM messages WHERE expires < $1", now)
        return int(done.rsplit(" ", 1)[-1])

    async def last_message(self) -> int:
        # under the publishers' lock (shared): a number taken by a publish not committed yet
        # is not given, or a reader starting there would never see that message
        async with self._connection(self._readers) as conn:
            with self._faults():
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock_shared($1, $2)",
                                       *MESSAGES_LOCK)
                    last: int = await conn.fetchval(
                        "SELECT coalesce(pg_sequence_last_value("
                        "pg_get_serial_sequence('messages', 'seq')::regclass), 0)")
        return last

    async def close(self) -> None:
        for pool in (self._readers, self._writers):
            try:
                await asyncio.wait_for(pool.close(), 10)
            except (TimeoutError, *_UNAVAILABLE):
                pool.terminate()


def _reason(exc: Exception, url: str) -> str:
    """Why a database could not be used, in one line, with any password in it masked."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, TimeoutError):
        reason = f"no answer within {CONNECT_TIMEOUT:.0f} s"
    password = urlsplit(url).password
    for secret in {password, unquote(password)} if password else ():
        reason = reason.replace(secret, "***")
    return reason
