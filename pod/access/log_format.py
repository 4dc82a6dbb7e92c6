"""How the access log is stored: its records, their compact row form and the sealed names.

Rows are ``[at in ms, agent, app, target, mode, method, status, grant]`` with this server's
IRIs shortened to ``/`` + their path. The names live in the pod's own sealed key space and can
never be resource paths (those start with ``/``); see :mod:`pod.access.audit` for what each
holds.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, overload

from pod.access.tally import AGENT, APP, COUNT, FIRST, LAST, METHOD, MODE, STATUS, TARGETS

# 4: counts of anonymous reads (in journal pieces and tallies); 3: per-day tallies and
# aggregates; 2: IRIs on this server are stored without its base URL. 1 to 3 are still read.
FORMAT = 4
FORMATS = (1, 2, 3, 4)
INDEX = "log:index"
CHUNK_RECORDS = 256
MAX_APPS = 200
APPS, OTHERS = "app", "other"  # query kinds: requests by apps, and the rest
MODES = ("read", "append", "write", "control")
DAY = 86400.0
LAST_SECOND = 253402300799.0  # 9999-12-31T23:59:59Z: the last moment a YYYY-MM-DD day names

log = logging.getLogger("pod.access.audit")


def day_of(at: float) -> str:
    """The UTC date of a unix time, ``YYYY-MM-DD``."""
    return time.strftime("%Y-%m-%d", time.gmtime(at))


def chunk_name(day: str, n: int) -> str:
    """A chunk of a day: up to :data:`CHUNK_RECORDS` rows, oldest first."""
    return f"log:{day}:{n}"


def piece_name(n: int) -> str:
    """Piece ``n`` of the pod's journal: the rows of one flush, not yet folded into days."""
    return f"log:journal:{n}"


#: a row as stored, and whether an app acting for the owner made it (kept whatever the tally)
Item = tuple[list[Any], bool]

MAX_TARGET = 2048  # characters of a URL kept in a record


def utc_iso(at: float) -> str:
    """A unix time as an ISO 8601 UTC time to the millisecond (``…T05:47:48.170Z``)."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One request on a pod by an app or another agent — or, when ``requests`` is set, an
    aggregate of that many requests of one agent and app with one outcome, ``first`` … ``at``
    (the latest), its mode, method and status those of the latest, ``targets`` a sample. An
    aggregate with ``reads`` set counts every successful anonymous read of its one target
    that day; any other counts the requests beyond those kept one by one."""

    at: float
    agent: str | None  # WebID; None: anonymous
    app: str | None  # client id of the app acting for the agent
    target: str  # resource URL, or a class IRI for bulk reads
    mode: str  # "read" | "append" | "write" | "control"
    method: str
    status: int
    grant: str | None = None
    requests: int = 0  # an aggregate: how many requests it counts
    first: float = 0.0
    targets: tuple[str, ...] = ()
    reads: bool = False

    @property
    def allowed(self) -> bool:
        return self.status < 400

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "at": utc_iso(self.at), "agent": self.agent, "app": self.app, "target": self.target,
            "mode": self.mode, "method": self.method, "status": self.status,
            "allowed": self.allowed, "grant": self.grant}
        if self.requests:
            out["aggregate"] = {"kind": "reads" if self.reads else "excess",
                                "requests": self.requests, "first": utc_iso(self.first),
                                "last": out["at"], "targets": list(self.targets)}
        return out

    def to_row(self, base: str) -> list[Any]:
        """The stored form: ``[at in ms, agent, app, target, mode, method, status, grant]``,
        IRIs on this server shortened to ``/`` + their path (a third fewer bytes to write)."""
        return [int(self.at * 1000), short_iri(self.agent, base), short_iri(self.app, base),
                short_iri(self.target, base), self.mode, self.method, self.status,
                short_iri(self.grant, base)]

    @classmethod
    def from_row(cls, row: list[Any], base: str) -> AccessRecord:
        at, agent, app, target, mode, method, status, grant = row
        return cls(at / 1000, long_iri(agent, base), long_iri(app, base), long_iri(target, base),
                   mode, method, int(status), long_iri(grant, base))

    @classmethod
    def from_aggregate(cls, agg: list[Any], base: str) -> AccessRecord:
        samples = agg[TARGETS] or [""]
        rec = cls.from_row([agg[LAST], agg[AGENT], agg[APP], samples[0], agg[MODE],
                             agg[METHOD], agg[STATUS], None], base)
        return replace(rec, requests=int(agg[COUNT]), first=agg[FIRST] / 1000,
                       targets=tuple(str(long_iri(t, base)) for t in agg[TARGETS]))

    @classmethod
    def from_reads(cls, target: str, count: list[Any], base: str) -> AccessRecord:
        """The record of a tally's count of anonymous reads of ``target`` (stored form)."""
        first, last, n, method = count
        rec = cls.from_row([last, None, None, target, "read", method, 200, None], base)
        return replace(rec, requests=int(n), first=first / 1000, targets=(rec.target,),
                       reads=True)


def well_formed(rec: AccessRecord) -> bool:
    """Whether ``rec`` can be stored; one that cannot is dropped (with a warning, without its
    contents) rather than block its pod's log for ever."""
    texts = (rec.agent, rec.app, rec.target, rec.mode, rec.method, rec.grant)
    if all(t is None or isinstance(t, str) for t in texts) and isinstance(rec.status, int) \
            and isinstance(rec.at, int | float):
        return True
    log.warning("access log: dropped a record with fields of the wrong type")
    return False


def short_iri(value: str | None, base: str) -> str | None:
    """An IRI of this server as ``/`` + its path (no stored IRI or client id starts with
    ``/`` otherwise)."""
    if base and value is not None and value.startswith(base):
        return "/" + value[len(base):]
    return value


@overload
def long_iri(value: str, base: str) -> str: ...
@overload
def long_iri(value: None, base: str) -> None: ...
def long_iri(value: str | None, base: str) -> str | None:
    if base and value is not None and value.startswith("/"):
        return base + value[1:]
    return value


def day_entry(days: dict[str, list[int]], day: str) -> tuple[int, int, bool]:
    """A day's index entry: chunks, size of the last chunk, whether it has a tally (format 3;
    earlier entries hold only the first two)."""
    entry = days.get(day) or [0, 0]
    return entry[0], entry[1], len(entry) > 2 and bool(entry[2])


def dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def load(data: bytes, what: str) -> dict[str, Any]:
    value = json.loads(data)
    if not isinstance(value, dict) or value.get("v") not in FORMATS:
        raise ValueError(f"access log {what} of an unknown format")
    return value


__all__ = ["APPS", "CHUNK_RECORDS", "DAY", "FORMAT", "INDEX", "LAST_SECOND", "MAX_APPS",
           "MAX_TARGET", "MODES", "OTHERS", "AccessRecord", "Item", "chunk_name", "day_entry",
           "day_of", "dump", "load", "long_iri", "piece_name", "short_iri", "utc_iso",
           "well_formed"]
