"""The pod owner's access log: who read or wrote what, when, with what outcome, under which grant.

``AccessLog.record`` is synchronous and O(1): it appends to an in-memory buffer per pod. A
background task flushes each pod's buffer in one sealed-store transaction per pod per flush, so
a request never waits for the log. Records live in the pod's own sealed key space under names
that can never be resource paths (those start with ``/``):

* ``log:index`` — the format version, the days that hold records with their chunk count and
  the size of their last chunk, and the apps seen lately;
* ``log:{YYYY-MM-DD}:{n}`` — a chunk: a compact JSON list of records of that UTC day.

A flush appends to the day's last chunk while it is small (≤ :data:`CHUNK_RECORDS` records)
and starts a new chunk otherwise, so no big page is ever rewritten. Days older than the
retention are deleted on flush. Names are blinded and values sealed with the pod key, so the
log is encrypted at rest and crypto-shredded with the pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox

from pod.store.sealed import PodKeys, SealedReader, SealedStore, SealedTransaction

FORMAT = 2  # 2: IRIs on this server are stored without its base URL; 1 is still read
FORMATS = (1, 2)
INDEX = "log:index"
CHUNK_RECORDS = 256
MAX_APPS = 200
MODES = ("read", "append", "write", "control")
DAY = 86400.0

log = logging.getLogger(__name__)


def day_of(at: float) -> str:
    """The UTC date of a unix time, ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.gmtime(at))


def chunk_name(day: str, n: int) -> str:
    return f"log:{day}:{n}"

MAX_TARGET = 2048  # characters of a URL kept in a record

@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One request on a pod by an app or another agent."""

    at: float
    agent: str | None  # WebID; None: anonymous
    app: str | None  # client id of the app acting for the agent
    target: str  # resource URL, or a class IRI for bulk reads
    mode: str  # "read" | "append" | "write" | "control"
    method: str
    status: int
    grant: str | None = None

    @property
    def allowed(self) -> bool:
        return self.status < 400

    def to_json(self) -> dict[str, Any]:
        when = datetime.fromtimestamp(self.at, UTC).isoformat(timespec="milliseconds")
        return {"at": when.replace("+00:00", "Z"), "agent": self.agent, "app": self.app,
                "target": self.target, "mode": self.mode, "method": self.method,
                "status": self.status, "allowed": self.allowed, "grant": self.grant}

    def _row(self, base: str) -> list[Any]:
        """The stored form: ``[at in ms, agent, app, target, mode, method, status, grant]``,
        IRIs on this server shortened to ``/`` + their path (a third fewer bytes to write)."""
        return [int(self.at * 1000), _short(self.agent, base), _short(self.app, base),
                _short(self.target, base), self.mode, self.method, self.status,
                _short(self.grant, base)]

    @classmethod
    def _from_row(cls, row: list[Any], base: str) -> AccessRecord:
        at, agent, app, target, mode, method, status, grant = row
        return cls(at / 1000, _long(agent, base), _long(app, base), _long(target, base),
                   mode, method, int(status), _long(grant, base))


def _short(value: str | None, base: str) -> str | None:
    """An IRI of this server as ``/`` + its path (no stored IRI or client id starts with
    ``/`` otherwise)."""
    if base and value is not None and value.startswith(base):
        return "/" + value[len(base):]
    return value


def _long(value: str | None, base: str) -> str | None:
    if base and value is not None and value.startswith("/"):
        return base + value[1:]
    return value


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _load(data: bytes, what: str) -> dict[str, Any]:
    value = json.loads(data)
    if not isinstance(value, dict) or value.get("v") not in FORMATS:
        raise ValueError(f"access log {what} of an unknown format")
    return value


class AccessLog:
    """Buffers access records in memory and writes them, sealed, into each pod's store."""

    def __init__(self, store: SealedStore, *, base_url: str = "", retention_days: int = 365,
                 flush_interval: float = 1.0, max_buffer: int = 10000):
        self._store, self._base = store, base_url
        self.retention_days = retention_days
        self._interval, self._max = flush_interval, max_buffer
        self._buffers: dict[bytes, tuple[PodKeys, list[AccessRecord]]] = {}
        self._pending = 0
        self._lock = asyncio.Lock()  # one flush at a time: a query waits for a running one
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._clock = time.time  # tests may move time

    # --- recording --------------------------------------------------------------------------

    def record(self, keys: PodKeys, rec: AccessRecord) -> None:
        """Queue ``rec`` for the pod of ``keys``; never blocks."""
        if len(rec.target) > MAX_TARGET:
            rec = replace(rec, target=rec.target[:MAX_TARGET] + "…")
        entry = self._buffers.get(keys.pod_id)
        if entry is None:
            entry = self._buffers[keys.pod_id] = (keys, [])
        entry[1].append(rec)
        self._pending += 1
        if self._pending >= self._max:
            self._wake.set()

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
        await self.flush()

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:  # the log must never take the server down
                log.exception("access log flush failed")

    async def flush(self) -> None:
        """Write every pod's buffered records (one transaction per pod)."""
        for pod_id in list(self._buffers):
            await self._flush_pod(pod_id)

    async def _flush_pod(self, pod_id: bytes) -> None:
        async with self._lock:
            entry = self._buffers.pop(pod_id, None)
            if entry is None:
                return
            keys, records = entry
            self._pending -= len(records)
            try:
                async with self._store.write(keys) as tx:
                    await self._append(tx, records)
            except Exception:  # not written: try again next time (cancelled: maybe written)
                self._requeue(keys, records)
                raise

    def _requeue(self, keys: PodKeys, records: list[AccessRecord]) -> None:
        """Put records of a failed flush back in front (bounded: the oldest go first)."""
        entry = self._buffers.get(keys.pod_id)
        later = entry[1] if entry else []
        kept = (records + later)[-10 * self._max:]
        self._buffers[keys.pod_id] = (keys, kept)
        self._pending += len(kept) - len(later)

    async def _append(self, tx: SealedTransaction, records: list[AccessRecord]) -> None:
        index = await self._index(tx)
        days: dict[str, list[int]] = index["days"]
        by_day: dict[int, list[list[Any]]] = {}  # unix days have exactly 86400 s
        for rec in records:
            by_day.setdefault(int(rec.at // DAY), []).append(rec._row(self._base))
        for number, rows in sorted(by_day.items()):
            day = day_of(number * DAY)
            chunks, last = days.get(day, (0, 0))
            if chunks and last + len(rows) <= CHUNK_RECORDS:  # top up the small last chunk
                opened = await tx.get(chunk_name(day, chunks - 1))
                if opened is not None:
                    rows = _load(opened.data, "chunk")["r"] + rows
                    chunks -= 1
            for start in range(0, len(rows), CHUNK_RECORDS):
                part = rows[start:start + CHUNK_RECORDS]
                await tx.put(chunk_name(day, chunks), _dump({"v": FORMAT, "r": part}))
                chunks, last = chunks + 1, len(part)
            days[day] = [chunks, last]
        apps: dict[str, float] = index["apps"]
        for rec in records:
            if rec.app is not None:
                apps[rec.app] = rec.at
        if len(apps) > MAX_APPS:
            index["apps"] = dict(sorted(apps.items(), key=lambda kv: -kv[1])[:MAX_APPS])
        await self._prune(tx, days)
        await tx.put(INDEX, _dump(index))

    async def _prune(self, tx: SealedTransaction, days: dict[str, list[int]]) -> None:
        cutoff = self._cutoff()
        for day in [d for d in days if d < cutoff]:
            for n in range(days.pop(day)[0]):
                await tx.delete(chunk_name(day, n))

    def _cutoff(self) -> str:
        """The oldest day kept."""
        return day_of(self._clock() - self.retention_days * DAY)

    @staticmethod
    async def _index(reader: SealedReader) -> dict[str, Any]:
        opened = await reader.get(INDEX)
        if opened is None:
            return {"v": FORMAT, "days": {}, "apps": {}}
        return _load(opened.data, "index")

    # --- reading ----------------------------------------------------------------------------

    async def query(self, keys: PodKeys, *, app: str | None = None, agent: str | None = None,
                    since: float | None = None, until: float | None = None,
                    limit: int = 1000) -> list[AccessRecord]:
        """Records of the pod, newest first, matching every filter given (``since`` ≤ at <
        ``until``); records buffered so far are written first, so they show up at once."""
        await self._flush_pod(keys.pod_id)
        found: list[AccessRecord] = []
        start = since * 1000 if since is not None else None  # rows hold milliseconds
        end = until * 1000 if until is not None else None
        wanted_app = {app, _short(app, self._base)}  # format 1 rows hold whole IRIs
        wanted_agent = {agent, _short(agent, self._base)}
        first = max(self._cutoff(), day_of(since) if since is not None else "")
        last = day_of(until) if until is not None else "9999-12-31"
        async with self._store.read(keys) as reader:
            index = await self._index(reader)
            for day in sorted(index["days"], reverse=True):
                if not first <= day <= last:
                    continue
                for n in range(index["days"][day][0] - 1, -1, -1):
                    opened = await reader.get(chunk_name(day, n))
                    if opened is None:
                        continue
                    # rows are [at, agent, app, ...]: filter before building records
                    found += [AccessRecord._from_row(row, self._base)
                              for row in reversed(_load(opened.data, "chunk")["r"])
                              if (app is None or row[2] in wanted_app)
                              and (agent is None or row[1] in wanted_agent)
                              and (start is None or row[0] >= start)
                              and (end is None or row[0] < end)]
                    if len(found) >= limit:
                        break
                    await asyncio.sleep(0)  # a long scan lets other requests through
                if len(found) >= limit:
                    break
        found.sort(key=lambda r: r.at, reverse=True)
        return found[:limit]

    async def apps(self, keys: PodKeys) -> list[str]:
        """The apps seen lately (up to :data:`MAX_APPS`), sorted."""
        await self._flush_pod(keys.pod_id)
        async with self._store.read(keys) as reader:
            return sorted((await self._index(reader))["apps"])


# --- renderings -----------------------------------------------------------------------------

AS = "https://www.w3.org/ns/activitystreams#"
ACL = "http://www.w3.org/ns/auth/acl#"
HTTP = "http://www.w3.org/2011/http#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PREFIXES = {"as": AS, "acl": ACL, "http": HTTP, "xsd": XSD}
ACL_MODES = {"read": "Read", "append": "Append", "write": "Write", "control": "Control"}


def _as(term: str) -> ox.NamedNode:
    return ox.NamedNode(AS + term)


def _iri(value: str) -> ox.NamedNode | None:
    """``value`` as an IRI node when it is an absolute http(s) IRI."""
    if not value.startswith(("https://", "http://")):
        return None
    try:
        return ox.NamedNode(value)
    except ValueError:
        return None


def to_json(records: Iterable[AccessRecord], log_url: str) -> dict[str, Any]:
    """The JSON rendering: ``{"id": log_url, "records": [...]}``."""
    items = [r.to_json() for r in records]
    return {"id": log_url, "count": len(items), "records": items}


def to_turtle(records: Iterable[AccessRecord], log_url: str) -> bytes:
    """The log as Turtle: an ``as:Collection`` of one ``as:Activity`` per record."""
    log_node = ox.NamedNode(log_url)
    triples = [ox.Triple(log_node, RDF_TYPE, _as("Collection"))]
    count = 0
    for rec in records:
        count += 1
        act = ox.BlankNode()
        triples += [
            ox.Triple(log_node, _as("items"), act),
            ox.Triple(act, RDF_TYPE, _as("Activity")),
            ox.Triple(act, _as("published"), ox.Literal(
                rec.to_json()["at"], datatype=ox.NamedNode(XSD + "dateTime"))),
            ox.Triple(act, ox.NamedNode(HTTP + "methodName"), ox.Literal(rec.method)),
            ox.Triple(act, _as("result"), ox.Literal(
                str(rec.status), datatype=ox.NamedNode(XSD + "integer"))),
        ]
        target = _iri(rec.target)
        triples.append(ox.Triple(act, _as("object"), target or ox.Literal(rec.target)))
        if rec.mode in ACL_MODES:
            triples.append(ox.Triple(act, ox.NamedNode(ACL + "mode"),
                                     ox.NamedNode(ACL + ACL_MODES[rec.mode])))
        actor = _iri(rec.agent) if rec.agent else None
        if actor is not None:  # anonymous: no actor
            triples.append(ox.Triple(act, _as("actor"), actor))
        if rec.app is not None:
            app = _iri(rec.app)
            if app is None:  # an opaque client id: an Application named by it
                app_node = ox.BlankNode()
                triples += [ox.Triple(app_node, RDF_TYPE, _as("Application")),
                            ox.Triple(app_node, _as("name"), ox.Literal(rec.app))]
                triples.append(ox.Triple(act, _as("instrument"), app_node))
            else:
                triples.append(ox.Triple(act, _as("instrument"), app))
        grant = _iri(rec.grant) if rec.grant else None
        if grant is not None:
            triples.append(ox.Triple(act, _as("context"), grant))
    triples.append(ox.Triple(log_node, _as("totalItems"), ox.Literal(
        str(count), datatype=ox.NamedNode(XSD + "nonNegativeInteger"))))
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


__all__ = ["MODES", "AccessLog", "AccessRecord", "day_of", "to_json", "to_turtle"]
