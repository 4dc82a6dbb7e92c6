"""The pod owner's access log: who read or wrote what, when, with what outcome, under which grant.

``AccessLog.record`` is synchronous and O(1): it appends to an in-memory buffer per pod. A
background task flushes the buffers every second, so a request never waits for the log.
Records live in the pod's own sealed key space (names: :mod:`pod.access.log_format`):

* ``log:journal:{n}`` — the journal: one piece per flush that wrote to the pod, holding that
  flush's rows as they came. Appending a piece reads and rewrites nothing, so a flush costs the
  same per record whether its records fall on ten pods or ten thousand (issue #16);
* ``log:index`` — the format version, the days that hold records with their chunk count, the
  size of their last chunk and whether the day has a tally, and the apps seen lately;
* ``log:{YYYY-MM-DD}:{n}`` — a chunk: a compact JSON list of records of that UTC day;
* ``log:{YYYY-MM-DD}:tally`` — what each agent has had kept that day, and the aggregates that
  stand in for what it sent beyond that (:mod:`pod.access.tally`): one agent knocking
  thousands of times adds a bounded amount, while apps acting for the owner are always kept.

The journal is *folded* into the days — chunks topped up, the tally applied, days older than
the retention deleted — when it holds :data:`JOURNAL_PIECES` pieces, when one flush brings
:data:`FOLD_AT` records or more (a busy pod), on the first flush of a UTC day for the pod in
this process, and on the first flush after the process starts or forgot the pod's journal
state. A query shows the journal exactly as a fold would store it (the tally applied), so what
the owner sees does not depend on when the fold runs. Names are blinded and values sealed with
the pod key: the log is encrypted at rest and crypto-shredded with the pod. A crash loses at
most what was buffered (one flush interval); a piece or a fold commits whole or not at all.

The pieces of many pods go to the store in one call and one commit
(:meth:`~pod.store.sealed.SealedStore.append_many`), not a transaction each. Several processes
may write one pod's log: a piece is stored only where none is and only after the piece before
it, so a process whose idea of the journal is stale finds its piece refused, forgets its idea
and folds instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from pod.access.agent import Agent
from pod.access.log_format import (
    APPS,
    CHUNK_RECORDS,
    DAY,
    FORMAT,
    INDEX,
    LAST_SECOND,
    MAX_APPS,
    MAX_TARGET,
    MODES,
    OTHERS,
    AccessRecord,
    Item,
    chunk_name,
    day_entry,
    day_of,
    dump,
    load,
    long_iri,
    piece_name,
    short_iri,
    utc_iso,
    well_formed,
)
from pod.access.tally import AGENT, APP, FIRST, LAST, Tally, tally_name
from pod.errors import InsufficientStorage, ServiceUnavailable
from pod.store.sealed import PodKeys, SealedReader, SealedStore, SealedTransaction

#: pieces a pod's journal holds before a flush folds them into the days
JOURNAL_PIECES = 128
#: a flush bringing this many records of one pod folds at once (a busy pod gains nothing from
#: the journal: its flushes already write full chunks)
FOLD_AT = 64
#: pods whose buffers one flush writes at once: their journal pieces in one call to the store
#: and one commit, sealed and stored back to back on the event loop (about 45 µs a pod, so
#: requests wait up to 1.5 ms for a group), their folds in transactions started together
FLUSH_GROUP = 32
#: pods whose journal state (next piece, day of the last fold) this process remembers
JOURNAL_STATES = 100_000

log = logging.getLogger(__name__)

Wanted = Callable[[float, float, str | None, str | None], bool]
#: a pod's records taken out of the buffer: its keys, the records, their stored rows
Taken = tuple[PodKeys, list[tuple[AccessRecord, bool]], list[Item]]


class AccessLog:
    """Buffers access records in memory and writes them, sealed, into each pod's store."""

    def __init__(self, store: SealedStore, *, base_url: str = "", retention_days: int = 365,
                 flush_interval: float = 1.0, max_buffer: int = 10000,
                 journal_states: int = JOURNAL_STATES):
        self._store, self._base = store, base_url
        self.retention_days = retention_days
        self._interval, self._max = flush_interval, max_buffer
        # per pod: (keys, [(record, by an app acting for the owner)])
        self._buffers: dict[bytes, tuple[PodKeys, list[tuple[AccessRecord, bool]]]] = {}
        self._pending = 0
        # per pod, least recently flushed first: (next journal piece, UTC day of the last fold)
        self._journals: OrderedDict[bytes, tuple[int, str]] = OrderedDict()
        self._journal_states = journal_states
        self._lock = asyncio.Lock()  # one flush at a time: a query waits for a running one
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._clock = time.time  # tests may move time

    # --- recording --------------------------------------------------------------------------

    def record_request(self, keys: PodKeys, owner: str, agent: Agent, target: str, mode: str,
                       method: str, status: int, grant: str | None) -> None:
        """Record one answered request on the pod of ``keys``, whose owner's WebID is
        ``owner`` — the one rule of who is logged: a request by an app, or by anyone but the
        owner; an anonymous one only when it succeeded (one that read or changed nothing is
        not worth a record). ``target`` is the resource URL, or the class IRI of a bulk read;
        ``grant`` the access grant the decision consulted first."""
        for_owner = agent.webid == owner
        if agent.app is None and for_owner:
            return
        if agent.webid is None and status >= 400:
            return
        self.record(keys, AccessRecord(time.time(), agent.webid, agent.app, target, mode,
                                       method, status, grant), owner_app=for_owner)

    def record(self, keys: PodKeys, rec: AccessRecord, *, owner_app: bool = False) -> None:
        """Queue ``rec`` for the pod of ``keys``; never blocks. ``owner_app``: the request was
        made by an app acting for the pod's owner, so it is always kept one by one."""
        if len(rec.target) > MAX_TARGET:
            rec = AccessRecord(rec.at, rec.agent, rec.app, rec.target[:MAX_TARGET] + "…",
                               rec.mode, rec.method, rec.status, rec.grant)
        entry = self._buffers.get(keys.pod_id)
        if entry is None:
            entry = self._buffers[keys.pod_id] = (keys, [])
        entry[1].append((rec, owner_app))
        self._pending += 1
        if self._pending >= self._max:
            self._wake.set()

    async def forget(self, pod_id: bytes) -> None:
        """Drop what is buffered for a pod being deleted (its log goes with it), once no flush
        is writing to it."""
        async with self._lock:
            self._journals.pop(pod_id, None)
            entry = self._buffers.pop(pod_id, None)
            if entry is not None:
                self._pending -= len(entry[1])

    async def start(self) -> None:
        """Start the background flusher (once)."""
        if self._task is None:
            self._closing = False
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Stop the flusher and write everything still buffered. The flusher is asked to
        stop, not cancelled: a flush cut off mid-commit could be written and then retried."""
        task, self._task = self._task, None
        if task is not None:
            self._closing = True
            self._wake.set()
            await task
        try:
            await self.flush()
        except (InsufficientStorage, ServiceUnavailable) as exc:  # nothing more to be done:
            log.error("%d access log records of %d pods are lost: %s",  # say what is lost
                      self._pending, len(self._buffers), exc)

    async def _run(self) -> None:
        waiting = False  # records wait for the store: said once, until a flush succeeds
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.flush()
                waiting = False
            except (InsufficientStorage, ServiceUnavailable) as exc:
                if not waiting:
                    log.warning("access log records wait in memory: %s", exc)
                waiting = True
            except Exception:  # the log must never take the server down
                log.exception("access log flush failed")

    # --- flushing ---------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write every pod's buffered records, :data:`FLUSH_GROUP` pods at a time. A group's
        journal pieces go to the store in one call and one commit
        (:meth:`~pod.store.sealed.SealedStore.append_many`), its folds each in a transaction
        of its own, started at once so that the store commits them together. The first error
        is raised once its group is done; pods not reached stay buffered."""
        async with self._lock:
            pods = list(self._buffers)
            for start in range(0, len(pods), FLUSH_GROUP):
                await self._flush_group(pods[start:start + FLUSH_GROUP])

    async def _flush_pod(self, pod_id: bytes) -> None:
        async with self._lock:
            await self._flush_group([pod_id])

    async def _flush_group(self, pods: list[bytes]) -> None:
        today = day_of(self._clock())
        pieces: list[tuple[Taken, int]] = []
        folds: list[Taken] = []
        for pod_id in pods:
            taken = self._take(pod_id)
            if taken is None:
                continue
            state = self._journals.get(pod_id)
            if (state is None or state[1] != today or len(taken[2]) >= FOLD_AT
                    or state[0] + 1 >= JOURNAL_PIECES):
                folds.append(taken)
            else:
                pieces.append((taken, state[0]))
        if pieces:
            try:
                stored = await self._store.append_many([
                    (keys, piece_name(n), dump({"v": FORMAT, "j": items}),
                     piece_name(n - 1) if n else None)
                    for (keys, _, items), n in pieces])
            except BaseException:  # not written: try again next time (cancelled: maybe written)
                for keys, records, _ in [taken for taken, _ in pieces] + folds:
                    self._journals.pop(keys.pod_id, None)
                    self._requeue(keys, records)
                raise
            for added, (taken, n) in zip(stored, pieces, strict=True):
                if added:
                    self._remember(taken[0].pod_id, (n + 1, today))
                else:  # another process moved the journal: fold instead
                    self._journals.pop(taken[0].pod_id, None)
                    folds.append(taken)
        done = await asyncio.gather(*(self._fold_pod(taken, today) for taken in folds),
                                    return_exceptions=True)
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome

    def _take(self, pod_id: bytes) -> Taken | None:
        """A pod's buffered records, out of the buffer, with their stored rows."""
        entry = self._buffers.pop(pod_id, None)
        if entry is None:
            return None
        keys, records = entry
        self._pending -= len(records)
        records = [item for item in records if well_formed(item[0])]
        if not records:
            return None
        return keys, records, [(rec.to_row(self._base), owner_app) for rec, owner_app in records]

    async def _fold_pod(self, taken: Taken, today: str) -> None:
        """Fold the pod's journal and these records into its days, in a transaction."""
        keys, records, items = taken
        try:
            async with self._store.write(keys) as tx:
                await self._fold(tx, items)
        except BaseException:  # not written: try again next time (cancelled: maybe written)
            self._journals.pop(keys.pod_id, None)
            self._requeue(keys, records)
            raise
        self._remember(keys.pod_id, (0, today))

    def _remember(self, pod_id: bytes, state: tuple[int, str]) -> None:
        self._journals[pod_id] = state
        self._journals.move_to_end(pod_id)
        while len(self._journals) > self._journal_states:
            self._journals.popitem(last=False)

    def _requeue(self, keys: PodKeys, records: list[tuple[AccessRecord, bool]]) -> None:
        """Put records of a failed flush back in front (bounded: the oldest go first)."""
        entry = self._buffers.get(keys.pod_id)
        later = entry[1] if entry else []
        kept = (records + later)[-10 * self._max:]
        self._buffers[keys.pod_id] = (keys, kept)
        self._pending += len(kept) - len(later)

    async def _fold(self, tx: SealedTransaction, items: list[Item]) -> None:
        """Move the journal and ``items`` into the days (in the order they were recorded),
        then delete the journal's pieces."""
        pieces = await _journal(tx)
        await self._append(tx, [item for _, piece in pieces for item in piece] + items)
        for n, _ in pieces:
            await tx.delete(piece_name(n))

    async def _append(self, tx: SealedTransaction, items: list[Item]) -> None:
        index = await self._index(tx)
        days: dict[str, list[int]] = index["days"]
        by_day: dict[str, list[Item]] = {}
        for item in items:
            by_day.setdefault(_day_of_row(item[0]), []).append(item)
        for day, day_items in sorted(by_day.items()):
            chunks, last, tallied = day_entry(days, day)
            tally = await _tally(tx, day) if _tallies(day_items) else None
            rows = _kept(day_items, tally)
            if tally is not None:
                await tx.put(tally_name(day), dump(tally.to_json(FORMAT)))
                tallied = True
            if not rows:
                days[day] = [chunks, last, int(tallied)]
                continue
            if chunks and last + len(rows) <= CHUNK_RECORDS:  # top up the small last chunk
                opened = await tx.get(chunk_name(day, chunks - 1))
                if opened is not None:
                    rows = load(opened.data, "chunk")["r"] + rows
                    chunks -= 1
            for start in range(0, len(rows), CHUNK_RECORDS):
                part = rows[start:start + CHUNK_RECORDS]
                await tx.put(chunk_name(day, chunks), dump({"v": FORMAT, "r": part}))
                chunks, last = chunks + 1, len(part)
            days[day] = [chunks, last, int(tallied)]
        index["v"] = FORMAT
        apps: dict[str, float] = index["apps"]
        for app, at in _apps_of(items, self._base):
            apps[app] = max(at, apps.get(app, 0.0))
        if len(apps) > MAX_APPS:
            index["apps"] = dict(sorted(apps.items(), key=lambda kv: -kv[1])[:MAX_APPS])
        await self._prune(tx, days)
        await tx.put(INDEX, dump(index))

    async def _prune(self, tx: SealedTransaction, days: dict[str, list[int]]) -> None:
        cutoff = self._cutoff()
        for day in [d for d in days if d < cutoff]:
            chunks, _, tallied = day_entry(days, day)
            del days[day]
            for n in range(chunks):
                await tx.delete(chunk_name(day, n))
            if tallied:
                await tx.delete(tally_name(day))

    def _cutoff(self) -> str:
        """The oldest day kept."""
        return day_of(self._clock() - self.retention_days * DAY)

    def _days(self, since: float | None, until: float | None) -> tuple[str, str]:
        """The first and last day a query for ``since`` ≤ at < ``until`` must read. Times are
        clamped to 1970…9999 first: a day string of another year length would compare wrongly
        (``"10000-01-01" < "2026-…"``)."""
        first = self._cutoff()
        if since is not None:
            first = max(first, day_of(min(max(since, 0.0), LAST_SECOND)))
        last = "9999-12-31"
        if until is not None:  # ``until`` is exclusive: its day counts only from a later time
            last = day_of(min(max(until - 0.001, 0.0), LAST_SECOND))
        return first, last

    @staticmethod
    async def _index(reader: SealedReader) -> dict[str, Any]:
        opened = await reader.get(INDEX)
        if opened is None:
            return {"v": FORMAT, "days": {}, "apps": {}}
        return load(opened.data, "index")

    # --- reading ----------------------------------------------------------------------------

    async def query(self, keys: PodKeys, *, app: str | None = None, agent: str | None = None,
                    kind: str | None = None, since: float | None = None,
                    until: float | None = None, limit: int = 1000) -> list[AccessRecord]:
        """Records of the pod, newest first, matching every filter given (``since`` ≤ at <
        ``until``; ``kind`` :data:`APPS`: requests by apps only, :data:`OTHERS`: the rest);
        records buffered so far are written first, so they show up at once. An aggregate is
        one record, found when its span meets the dates asked for."""
        await self._flush_pod(keys.pod_id)
        start = since * 1000 if since is not None else None  # rows hold milliseconds
        end = until * 1000 if until is not None else None
        wanted_app = {app, short_iri(app, self._base)}  # format 1 rows hold whole IRIs
        wanted_agent = {agent, short_iri(agent, self._base)}

        def wanted(first: float, last: float, row_agent: str | None, row_app: str | None
                   ) -> bool:
            return ((app is None or row_app in wanted_app)
                    and (agent is None or row_agent in wanted_agent)
                    and (kind is None or (row_app is not None) == (kind == APPS))
                    and (start is None or last >= start) and (end is None or first < end))

        first_day, last_day = self._days(since, until)
        found: list[AccessRecord] = []
        async with self._store.read(keys) as reader:
            index = await self._index(reader)
            journal = _by_day(item for _, piece in await _journal(reader) for item in piece)
            for day in sorted(set(index["days"]) | set(journal), reverse=True):
                if first_day <= day <= last_day:
                    found += await self._read_day(reader, index, day, journal.get(day, []),
                                                  wanted, limit - len(found))
                if len(found) >= limit:
                    break
        found.sort(key=lambda r: r.at, reverse=True)
        return found[:limit]

    async def _read_day(self, reader: SealedReader, index: dict[str, Any], day: str,
                        pending: list[Item], wanted: Wanted, room: int) -> list[AccessRecord]:
        """A day's records that ``wanted`` takes: its journal rows as a fold would keep them,
        its aggregates, then its chunks newest first until ``room`` is filled."""
        chunks, _, tallied = day_entry(index["days"], day)
        tally = await _tally(reader, day) if tallied or _tallies(pending) else None
        rows = _kept(pending, tally)
        found = [] if tally is None else [
            AccessRecord.from_aggregate(agg, self._base) for agg in tally.aggregates.values()
            if wanted(agg[FIRST], agg[LAST], agg[AGENT], agg[APP])]
        # rows are [at, agent, app, ...]: filter before building records
        found += [AccessRecord.from_row(row, self._base) for row in reversed(rows)
                  if wanted(row[0], row[0], row[1], row[2])]
        for n in range(chunks - 1, -1, -1):
            if len(found) >= room:
                break
            opened = await reader.get(chunk_name(day, n))
            if opened is None:
                continue
            found += [AccessRecord.from_row(row, self._base)
                      for row in reversed(load(opened.data, "chunk")["r"])
                      if wanted(row[0], row[0], row[1], row[2])]
            await asyncio.sleep(0)  # a long scan lets other requests through
        return found

    async def days(self, keys: PodKeys) -> list[str]:
        """The days (``YYYY-MM-DD``, UTC) that hold records, oldest first."""
        await self._flush_pod(keys.pod_id)
        async with self._store.read(keys) as reader:
            cutoff = self._cutoff()
            journal = _by_day(item for _, piece in await _journal(reader) for item in piece)
            held = set((await self._index(reader))["days"]) | set(journal)
            return sorted(d for d in held if d >= cutoff)

    async def apps(self, keys: PodKeys) -> list[str]:
        """The apps seen lately (up to :data:`MAX_APPS`), sorted."""
        await self._flush_pod(keys.pod_id)
        async with self._store.read(keys) as reader:
            seen = set((await self._index(reader))["apps"])
            pieces = await _journal(reader)
            seen |= {app for app, _ in _apps_of(
                (item for _, piece in pieces for item in piece), self._base)}
            return sorted(seen)


async def _journal(reader: SealedReader) -> list[tuple[int, list[Item]]]:
    """The pod's journal pieces in order, each with its rows. Pieces are numbered from 0 with
    no gap (a piece is written only after the one before it), so the first missing ends it."""
    pieces: list[tuple[int, list[Item]]] = []
    for n in range(4 * JOURNAL_PIECES):  # bounded even if a store were to hold a stray piece
        opened = await reader.get(piece_name(n))
        if opened is None:
            break
        pieces.append((n, [(row, bool(owner_app)) for row, owner_app
                           in load(opened.data, "journal piece")["j"]]))
    return pieces


def _day_of_row(row: list[Any]) -> str:
    return day_of(int(row[0]) // 1000)


def _by_day(items: Iterable[Item]) -> dict[str, list[Item]]:
    by_day: dict[str, list[Item]] = {}
    for item in items:
        by_day.setdefault(_day_of_row(item[0]), []).append(item)
    return by_day


def _tallies(items: list[Item]) -> bool:
    """Whether the tally has a say over ``items`` (only apps acting for the owner escape it)."""
    return any(not owner_app for _, owner_app in items)


async def _tally(reader: SealedReader, day: str) -> Tally:
    opened = await reader.get(tally_name(day))
    return Tally(load(opened.data, "tally") if opened else None)


def _kept(items: list[Item], tally: Tally | None) -> list[list[Any]]:
    """The rows of ``items`` to store one by one; the tally counts the rest (and learns of
    those it keeps)."""
    return [row for row, owner_app in items
            if owner_app or tally is None or tally.keep(row)]


def _apps_of(items: Iterable[Item], base: str) -> list[tuple[str, float]]:
    """The apps that made the requests of ``items``, with when (whole IRIs)."""
    return [(long_iri(row[2], base), row[0] / 1000) for row, _ in items if row[2] is not None]


__all__ = ["APPS", "MODES", "OTHERS", "AccessLog", "AccessRecord", "day_of", "utc_iso"]
