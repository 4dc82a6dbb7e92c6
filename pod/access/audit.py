"""The pod owner's access log: who read or wrote what, when, with what outcome, under which grant.

``AccessLog.record`` is synchronous and O(1): it appends to an in-memory buffer per pod. A
background task flushes the buffers every second, so a request never waits for the log.
Successful anonymous reads are not records: ``AccessLog.count`` adds them to the pod's count
of reads of that resource that day, which waits in memory up to ``count_interval`` (30 s by
default) unless the pod is written sooner anyway — so public reads spread over thousands of
pods cost a write per pod every half minute, not one every second or two (issue #16).
Records live in the pod's own sealed key space (names: :mod:`pod.access.log_format`):

* ``log:journal:{n}`` — the journal: one piece per flush that wrote to the pod, holding that
  flush's rows as they came and its counts of anonymous reads. Appending a piece reads and
  rewrites nothing, so a flush costs the same per record whether its records fall on ten pods
  or ten thousand (issue #16);
* ``log:index`` — the format version, the days that hold records with their chunk count, the
  size of their last chunk and whether the day has a tally, and the apps seen lately;
* ``log:{YYYY-MM-DD}:{n}`` — a chunk: a compact JSON list of records of that UTC day;
* ``log:{YYYY-MM-DD}:tally`` — what each agent has had kept that day, the aggregates that
  stand in for what it sent beyond that, and the day's counts of anonymous reads per resource
  (:mod:`pod.access.tally`): one agent knocking thousands of times adds a bounded amount,
  while apps acting for the owner are always kept.

The journal is *folded* into the days — chunks topped up, the tally applied, days older than
the retention deleted — when it holds :data:`JOURNAL_PIECES` pieces, when one flush brings
:data:`FOLD_AT` records or more (a busy pod), on the first flush of a UTC day for the pod in
this process, and on the first flush after the process starts or forgot the pod's journal
state. A query shows the journal exactly as a fold would store it (the tally applied), so what
the owner sees does not depend on when the fold runs. Names are blinded and values sealed with
the pod key: the log is encrypted at rest and crypto-shredded with the pod. A crash loses at
most what was buffered — records of the last flush interval (a second), counts of anonymous
reads of the last ``count_interval``; a piece or a fold commits whole or not at all.

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
from collections import OrderedDict, deque
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
from pod.access.tally import AGENT, APP, FIRST, LAST, ReadCount, Tally, add_reads, tally_name
from pod.errors import InsufficientStorage, ServiceUnavailable
from pod.store.sealed import PodKeys, SealedReader, SealedStore, SealedTransaction

#: pieces a pod's journal holds before a flush folds them into the days
JOURNAL_PIECES = 128
#: a flush bringing this many records of one pod folds at once (a busy pod gains nothing from
#: the journal: its flushes already write full chunks)
FOLD_AT = 64
#: pods whose buffers one flush writes at once: their journal pieces in one call to the store
#: and one commit (sealed and stored a slice at a time, requests running between slices:
#: :data:`~pod.store.base.APPEND_SLICE`), their folds in transactions started together
FLUSH_GROUP = 32
#: pods whose journal state (next piece, day of the last fold) this process remembers
JOURNAL_STATES = 100_000
#: seconds a count of anonymous reads may wait in memory before it is written
COUNT_INTERVAL = 30.0
#: counts (pod, day and resource) held in memory beyond which the oldest are written at once,
#: until three quarters of this are left (a few hundred bytes each)
MAX_COUNTS = 50_000

log = logging.getLogger(__name__)

Wanted = Callable[[float, float, str | None, str | None], bool]
#: a journal piece: its rows, and its counts of anonymous reads
Piece = tuple[list[Item], list[ReadCount]]


class _Buffer:
    """What waits in memory for one pod: records, and counts of anonymous reads per (UTC
    day, resource in stored form) — ``[first ms, last ms, count, method of the latest]``."""

    __slots__ = ("counts", "keys", "records", "since")

    def __init__(self, keys: PodKeys):
        self.keys = keys
        self.records: list[tuple[AccessRecord, bool]] = []
        self.counts: dict[tuple[str, str], list[Any]] = {}
        self.since = 0.0  # monotonic time of the oldest count

    def count_rows(self) -> list[ReadCount]:
        """The counts as stored: ``[first ms, last ms, count, target, method]``."""
        return [[first, last, n, target, method]
                for (_, target), (first, last, n, method) in self.counts.items()]


#: a pod's buffer taken out for a flush: its keys, records, their stored rows, and its counts
Taken = tuple[PodKeys, list[tuple[AccessRecord, bool]], list[Item], list[ReadCount]]


class AccessLog:
    """Buffers access records in memory and writes them, sealed, into each pod's store."""

    def __init__(self, store: SealedStore, *, base_url: str = "", retention_days: int = 365,
                 flush_interval: float = 1.0, max_buffer: int = 10000,
                 journal_states: int = JOURNAL_STATES, count_interval: float = COUNT_INTERVAL,
                 max_counts: int = MAX_COUNTS):
        self._store, self._base = store, base_url
        self.retention_days = retention_days
        self._interval, self._max = flush_interval, max_buffer
        self._count_interval, self._max_counts = count_interval, max_counts
        self._buffers: dict[bytes, _Buffer] = {}
        self._pending = 0  # records buffered
        self._counted = 0  # counts buffered
        # what the background flush takes, found without a look at every buffer: the pods with
        # records, and when each pod's counts began, oldest first (an entry whose buffer has
        # gone or begun again since is passed over)
        self._with_records: dict[bytes, None] = {}
        self._counts_since: deque[tuple[float, bytes]] = deque()
        self._today = (0.0, 0.0, "")  # the UTC day of the latest count: start, end, name
        # per pod, least recently flushed first: (next journal piece, UTC day of the last fold)
        self._journals: OrderedDict[bytes, tuple[int, str]] = OrderedDict()
        self._journal_states = journal_states
        self._lock = asyncio.Lock()  # one flush at a time: a query waits for a running one
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._clock = time.time  # tests may move time

    @property
    def count_interval(self) -> float:
        """Seconds a count of anonymous reads may wait in memory before it is written."""
        return self._count_interval

    # --- recording --------------------------------------------------------------------------

    def record_request(self, keys: PodKeys, owner: str, agent: Agent, target: str, mode: str,
                       method: str, status: int, grant: str | None) -> None:
        """Record one answered request on the pod of ``keys``, whose owner's WebID is
        ``owner`` — the one rule of who is logged: a request by an app, or by anyone but the
        owner; an anonymous one only when it succeeded (one that read or changed nothing is
        not worth a record), and then counted if it read (:meth:`count`). ``target`` is the
        resource URL, or the class IRI of a bulk read; ``grant`` the access grant the decision
        consulted first."""
        for_owner = agent.webid == owner
        if agent.app is None and for_owner:
            return
        if agent.webid is None:
            if status >= 400:
                return
            if mode == "read" and agent.app is None:
                self.count(keys, target, method)
                return
        self.record(keys, AccessRecord(time.time(), agent.webid, agent.app, target, mode,
                                       method, status, grant), owner_app=for_owner)

    def record(self, keys: PodKeys, rec: AccessRecord, *, owner_app: bool = False) -> None:
        """Queue ``rec`` for the pod of ``keys``; never blocks. ``owner_app``: the request was
        made by an app acting for the pod's owner, so it is always kept one by one."""
        if len(rec.target) > MAX_TARGET:
            rec = AccessRecord(rec.at, rec.agent, rec.app, rec.target[:MAX_TARGET] + "…",
                               rec.mode, rec.method, rec.status, rec.grant)
        self._buffer(keys).records.append((rec, owner_app))
        self._with_records[keys.pod_id] = None
        self._pending += 1
        if self._pending >= self._max:
            self._wake.set()

    def count(self, keys: PodKeys, target: str, method: str, at: float | None = None) -> None:
        """Count a successful anonymous read of ``target`` on the pod of ``keys`` (at ``at``,
        default now) in the pod's count of that resource and UTC day; never blocks."""
        at = time.time() if at is None else at
        if len(target) > MAX_TARGET:
            target = target[:MAX_TARGET] + "…"
        buf = self._buffer(keys)
        key = (self._day(at), short_iri(target, self._base) or "")
        ms = int(at * 1000)
        have = buf.counts.get(key)
        if have is not None:
            add_reads(have, ms, ms, 1, method)
            return
        if not buf.counts:
            self._began_counting(buf)
        buf.counts[key] = [ms, ms, 1, method]
        self._counted += 1
        if self._counted >= self._max_counts:
            self._wake.set()

    def _day(self, at: float) -> str:
        """``day_of(at)``, one string a day (a count's key holds it: one object, not one each)."""
        start, end, day = self._today
        if not start <= at < end:
            day = day_of(at)
            start = float(int(at // DAY) * DAY)
            self._today = (start, start + DAY, day)
        return day

    def _began_counting(self, buf: _Buffer) -> None:
        buf.since = time.monotonic()
        self._counts_since.append((buf.since, buf.keys.pod_id))

    def _buffer(self, keys: PodKeys) -> _Buffer:
        buf = self._buffers.get(keys.pod_id)
        if buf is None:
            buf = self._buffers[keys.pod_id] = _Buffer(keys)
        return buf

    async def forget(self, pod_id: bytes) -> None:
        """Drop what is buffered for a pod being deleted (its log goes with it), once no flush
        is writing to it."""
        async with self._lock:
            self._journals.pop(pod_id, None)
            self._with_records.pop(pod_id, None)
            buf = self._buffers.pop(pod_id, None)
            if buf is not None:
                self._pending -= len(buf.records)
                self._counted -= len(buf.counts)

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
            log.error("%d access log records and %d counts of %d pods are lost: %s",
                      self._pending, self._counted, len(self._buffers), exc)  # what is lost

    async def _run(self) -> None:
        waiting = False  # records wait for the store: said once, until a flush succeeds
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self._flush_due()
                waiting = False
            except (InsufficientStorage, ServiceUnavailable) as exc:
                if not waiting:
                    log.warning("access log records wait in memory: %s", exc)
                waiting = True
            except Exception:  # the log must never take the server down
                log.exception("access log flush failed")

    # --- flushing ---------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write everything buffered, counts too, :data:`FLUSH_GROUP` pods at a time. A
        group's journal pieces go to the store in one call and one commit
        (:meth:`~pod.store.sealed.SealedStore.append_many`), its folds each in a transaction
        of its own, started at once so that the store commits them together. The first error
        is raised once its group is done; pods not reached stay buffered."""
        async with self._lock:
            await self._flush_pods(list(self._buffers))

    async def _flush_due(self) -> None:
        """The background flush: the pods with records, and those whose counts have waited
        ``count_interval`` — or, while more than :data:`MAX_COUNTS` wait, the oldest counts
        until three quarters of that are left."""
        async with self._lock:
            due = time.monotonic() - self._count_interval
            pods = dict.fromkeys(self._with_records)
            left = self._counted - sum(len(b.counts) for b in map(self._buffers.get, pods) if b)
            while self._counts_since:
                since, pod_id = self._counts_since[0]
                if since > due and left <= self._max_counts * 3 // 4:
                    break
                self._counts_since.popleft()
                buf = self._buffers.get(pod_id)
                if buf is not None and buf.counts and buf.since == since and pod_id not in pods:
                    pods[pod_id] = None
                    left -= len(buf.counts)
            await self._flush_pods(list(pods))

    async def _flush_pods(self, pods: list[bytes]) -> None:
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
            if (state is None or state[1] != today or len(taken[2]) + len(taken[3]) >= FOLD_AT
                    or state[0] + 1 >= JOURNAL_PIECES):
                folds.append(taken)
            else:
                pieces.append((taken, state[0]))
        if pieces:
            try:
                stored = await self._store.append_many([
                    (keys, piece_name(n), _piece(items, counts),
                     piece_name(n - 1) if n else None)
                    for (keys, _, items, counts), n in pieces])
            except BaseException:  # not written: try again next time (cancelled: maybe written)
                for taken in [taken for taken, _ in pieces] + folds:
                    self._journals.pop(taken[0].pod_id, None)
                    self._requeue(taken)
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
        """A pod's buffered records and counts, out of the buffer, with the records' stored
        rows."""
        buf = self._buffers.pop(pod_id, None)
        self._with_records.pop(pod_id, None)
        if buf is None:
            return None
        self._pending -= len(buf.records)
        self._counted -= len(buf.counts)
        records = [item for item in buf.records if well_formed(item[0])]
        counts = buf.count_rows()
        if not records and not counts:
            return None
        return (buf.keys, records,
                [(rec.to_row(self._base), owner_app) for rec, owner_app in records], counts)

    async def _fold_pod(self, taken: Taken, today: str) -> None:
        """Fold the pod's journal and these records and counts into its days, in a
        transaction."""
        keys, _, items, counts = taken
        try:
            async with self._store.write(keys) as tx:
                await self._fold(tx, items, counts)
        except BaseException:  # not written: try again next time (cancelled: maybe written)
            self._journals.pop(keys.pod_id, None)
            self._requeue(taken)
            raise
        self._remember(keys.pod_id, (0, today))

    def _remember(self, pod_id: bytes, state: tuple[int, str]) -> None:
        self._journals[pod_id] = state
        self._journals.move_to_end(pod_id)
        while len(self._journals) > self._journal_states:
            self._journals.popitem(last=False)

    def _requeue(self, taken: Taken) -> None:
        """Put the records and counts of a failed flush back (records in front; bounded: the
        oldest go first)."""
        keys, records, _, counts = taken
        buf = self._buffer(keys)
        later = buf.records
        buf.records = (records + later)[-10 * self._max:]
        self._pending += len(buf.records) - len(later)
        if buf.records:
            self._with_records[keys.pod_id] = None
        for first, last, n, target, method in counts:
            key = (day_of(first / 1000), target)
            have = buf.counts.get(key)
            if have is None:
                if not buf.counts:
                    self._began_counting(buf)
                buf.counts[key] = [first, last, n, method]
                self._counted += 1
            else:
                add_reads(have, first, last, n, method)

    async def _fold(self, tx: SealedTransaction, items: list[Item],
                    counts: list[ReadCount]) -> None:
        """Move the journal and ``items`` and ``counts`` into the days (rows in the order
        they were recorded), then delete the journal's pieces."""
        pieces = await _journal(tx)
        await self._append(tx, [item for _, (rows, _) in pieces for item in rows] + items,
                           [c for _, (_, cs) in pieces for c in cs] + counts)
        for n, _ in pieces:
            await tx.delete(piece_name(n))

    async def _append(self, tx: SealedTransaction, items: list[Item],
                      counts: list[ReadCount]) -> None:
        index = await self._index(tx)
        days: dict[str, list[int]] = index["days"]
        by_day = _by_day(items)
        counts_by_day = _counts_by_day(counts)
        for day in sorted(set(by_day) | set(counts_by_day)):
            day_items, day_counts = by_day.get(day, []), counts_by_day.get(day, [])
            chunks, last, tallied = day_entry(days, day)
            tally = await _tally(tx, day) if _tallies(day_items) or day_counts else None
            if tally is not None:
                tally.count_reads(day_counts)
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
            pieces = await _journal(reader)
            journal = _by_day(item for _, (rows, _) in pieces for item in rows)
            counted = _counts_by_day(c for _, (_, cs) in pieces for c in cs)
            for day in sorted(set(index["days"]) | set(journal) | set(counted), reverse=True):
                if first_day <= day <= last_day:
                    found += await self._read_day(reader, index, day, journal.get(day, []),
                                                  counted.get(day, []), wanted,
                                                  limit - len(found))
                if len(found) >= limit:
                    break
        found.sort(key=lambda r: r.at, reverse=True)
        return found[:limit]

    async def _read_day(self, reader: SealedReader, index: dict[str, Any], day: str,
                        pending: list[Item], counts: list[ReadCount], wanted: Wanted,
                        room: int) -> list[AccessRecord]:
        """A day's records that ``wanted`` takes: its journal rows and counts as a fold would
        keep them, its aggregates and counts, then its chunks newest first until ``room`` is
        filled."""
        chunks, _, tallied = day_entry(index["days"], day)
        tally = (await _tally(reader, day) if tallied or _tallies(pending) or counts
                 else None)
        if tally is not None:
            tally.count_reads(counts)
        rows = _kept(pending, tally)
        found = [] if tally is None else [
            AccessRecord.from_aggregate(agg, self._base) for agg in tally.aggregates.values()
            if wanted(agg[FIRST], agg[LAST], agg[AGENT], agg[APP])]
        if tally is not None:
            found += [AccessRecord.from_reads(target, count, self._base)
                      for target, count in tally.reads.items()
                      if wanted(count[0], count[1], None, None)]
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
            pieces = await _journal(reader)
            held = (set((await self._index(reader))["days"])
                    | set(_by_day(item for _, (rows, _) in pieces for item in rows))
                    | set(_counts_by_day(c for _, (_, cs) in pieces for c in cs)))
            return sorted(d for d in held if d >= cutoff)

    async def apps(self, keys: PodKeys) -> list[str]:
        """The apps seen lately (up to :data:`MAX_APPS`), sorted."""
        await self._flush_pod(keys.pod_id)
        async with self._store.read(keys) as reader:
            seen = set((await self._index(reader))["apps"])
            pieces = await _journal(reader)
            seen |= {app for app, _ in _apps_of(
                (item for _, (rows, _) in pieces for item in rows), self._base)}
            return sorted(seen)


def _piece(items: list[Item], counts: list[ReadCount]) -> bytes:
    """A journal piece as stored."""
    return dump({"v": FORMAT, "j": items, "c": counts} if counts else {"v": FORMAT, "j": items})


async def _journal(reader: SealedReader) -> list[tuple[int, Piece]]:
    """The pod's journal pieces in order, each with its rows and counts. Pieces are numbered
    from 0 with no gap (a piece is written only after the one before it), so the first
    missing ends it."""
    pieces: list[tuple[int, Piece]] = []
    for n in range(4 * JOURNAL_PIECES):  # bounded even if a store were to hold a stray piece
        opened = await reader.get(piece_name(n))
        if opened is None:
            break
        piece = load(opened.data, "journal piece")
        pieces.append((n, ([(row, bool(owner_app)) for row, owner_app in piece["j"]],
                           piece.get("c", []))))
    return pieces


def _day_of_row(row: list[Any]) -> str:
    return day_of(int(row[0]) // 1000)


def _by_day(items: Iterable[Item]) -> dict[str, list[Item]]:
    by_day: dict[str, list[Item]] = {}
    for item in items:
        by_day.setdefault(_day_of_row(item[0]), []).append(item)
    return by_day


def _counts_by_day(counts: Iterable[ReadCount]) -> dict[str, list[ReadCount]]:
    by_day: dict[str, list[ReadCount]] = {}
    for count in counts:
        by_day.setdefault(day_of(int(count[0]) // 1000), []).append(count)
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
