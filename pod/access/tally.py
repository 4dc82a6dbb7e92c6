"""How much one agent may add to a pod's access log in a day, and the records that stand in
for the rest (docs/api.md, "The owner's access log").

Per pod, UTC day, agent and app, the log keeps one by one the first :data:`REFUSALS_KEPT`
refused requests and the first :data:`ALLOWED_KEPT` allowed ones. Every further request is
counted in one *aggregate* per agent, app and outcome: how many, the first and last time, the
mode, method and status of the latest, and up to :data:`SAMPLES` of the targets tried. An owner
still learns that someone is knocking, and the log grows by a bounded amount per agent per day
however hard they knock. Requests by an app acting for the pod's owner — the apps the owner
consented to — are never counted here: each is kept.

Successful anonymous reads are never kept one by one: the tally counts them per resource
(:meth:`Tally.count_reads`) — how many, the first and last time — for up to
:data:`RESOURCES_COUNTED` resources a day; reads of further resources join the anonymous
aggregate. They say no more than that: an anonymous request names nobody.

The tally of a day — kept counts, aggregates and read counts — is one sealed record,
``log:{day}:tally``, read and written by the flush (never on the request path).
"""

from __future__ import annotations

from typing import Any

REFUSALS_KEPT = 20
ALLOWED_KEPT = 1000
SAMPLES = 5
SAMPLE_CHARS = 512
#: resources of a pod whose anonymous reads are counted one count each per day
RESOURCES_COUNTED = 1000
REFUSED, ALLOWED = "refused", "allowed"

# an aggregate row: [first ms, last ms, count, agent, app, mode, method, status, [targets]]
FIRST, LAST, COUNT, AGENT, APP, MODE, METHOD, STATUS, TARGETS = range(9)
#: a count of anonymous reads: [first ms, last ms, count, target, method of the latest]
ReadCount = list[Any]


def add_reads(count: list[Any], first: int, last: int, n: int, method: str) -> None:
    """Add ``n`` reads, ``first`` … ``last`` ms, the latest by ``method``, to ``count``: ``[first
    ms, last ms, count, method of the latest]`` (in a tally, or waiting in memory)."""
    count[0] = min(count[0], first)
    count[2] += n
    if last >= count[1]:
        count[1], count[3] = last, method


def tally_name(day: str) -> str:
    return f"log:{day}:tally"


class Tally:
    """One day's tally of a pod's log: what each agent and app has had kept, and the
    aggregates of the rest. Rows are the stored form of records (see ``AccessRecord._row``)."""

    def __init__(self, data: dict[str, Any] | None = None):
        self.kept: dict[str, list[int]] = data["k"] if data else {}
        self.aggregates: dict[str, list[Any]] = data["s"] if data else {}
        # per resource (stored form): [first ms, last ms, count, method of the latest]
        self.reads: dict[str, list[Any]] = data.get("r", {}) if data else {}

    def to_json(self, version: int) -> dict[str, Any]:
        out = {"v": version, "k": self.kept, "s": self.aggregates}
        if self.reads:
            out["r"] = self.reads
        return out

    def keep(self, row: list[Any]) -> bool:
        """Whether to store the request of ``row`` as a record of its own; if not, it is
        counted in its aggregate."""
        at, agent, app, target, mode, method, status = row[:7]
        key = f"{agent or ''}\n{app or ''}"
        allowed = int(status) < 400
        counts = self.kept.setdefault(key, [0, 0])
        slot, cap = (1, ALLOWED_KEPT) if allowed else (0, REFUSALS_KEPT)
        if counts[slot] < cap:
            counts[slot] += 1
            return True
        self._aggregate(f"{key}\n{ALLOWED if allowed else REFUSED}", at, at, 1,
                        [agent, app, mode, method, status], target)
        return False

    def count_reads(self, counts: list[ReadCount]) -> None:
        """Add counts of successful anonymous reads, each ``[first ms, last ms, count,
        target, method of the latest]``: to the resource's count, or, once
        :data:`RESOURCES_COUNTED` resources are counted that day, to the anonymous
        aggregate."""
        for first, last, n, target, method in counts:
            have = self.reads.get(target)
            if have is None and len(self.reads) < RESOURCES_COUNTED:
                have = self.reads[target] = [first, last, 0, method]
            if have is None:
                self._aggregate(f"\n\n{ALLOWED}", first, last, n,
                                [None, None, "read", method, 200], target)
                continue
            add_reads(have, first, last, n, method)

    def _aggregate(self, name: str, first: int, last: int, n: int, latest: list[Any],
                   target: str) -> None:
        """Count ``n`` requests of ``first`` … ``last`` in the aggregate ``name``; ``latest``
        is the agent, app, mode, method and status of the newest of them."""
        agg = self.aggregates.get(name)
        if agg is None:
            agg = self.aggregates[name] = [first, last, 0, *latest, []]
        agg[COUNT] += n
        agg[FIRST] = min(agg[FIRST], first)
        if last >= agg[LAST]:
            agg[LAST], agg[MODE], agg[METHOD], agg[STATUS] = last, *latest[2:]
        sample = target[:SAMPLE_CHARS]
        if len(agg[TARGETS]) < SAMPLES and sample not in agg[TARGETS]:
            agg[TARGETS].append(sample)


__all__ = ["ALLOWED_KEPT", "REFUSALS_KEPT", "RESOURCES_COUNTED", "SAMPLES", "ReadCount",
           "Tally", "add_reads", "tally_name"]
