"""How much one agent may add to a pod's access log in a day, and the records that stand in
for the rest (docs/api.md, "The owner's access log").

Per pod, UTC day, agent and app, the log keeps one by one the first :data:`REFUSALS_KEPT`
refused requests and the first :data:`ALLOWED_KEPT` allowed ones. Every further request is
counted in one *aggregate* per agent, app and outcome: how many, the first and last time, the
mode, method and status of the latest, and up to :data:`SAMPLES` of the targets tried. An owner
still learns that someone is knocking, and the log grows by a bounded amount per agent per day
however hard they knock. Requests by an app acting for the pod's owner — the apps the owner
consented to — are never counted here: each is kept.

The tally of a day — kept counts and aggregates — is one sealed record, ``log:{day}:tally``,
read and written by the flush (never on the request path).
"""

from __future__ import annotations

from typing import Any

REFUSALS_KEPT = 20
ALLOWED_KEPT = 1000
SAMPLES = 5
SAMPLE_CHARS = 512
REFUSED, ALLOWED = "refused", "allowed"

# an aggregate row: [first ms, last ms, count, agent, app, mode, method, status, [targets]]
FIRST, LAST, COUNT, AGENT, APP, MODE, METHOD, STATUS, TARGETS = range(9)


def tally_name(day: str) -> str:
    return f"log:{day}:tally"


class Tally:
    """One day's tally of a pod's log: what each agent and app has had kept, and the
    aggregates of the rest. Rows are the stored form of records (see ``AccessRecord._row``)."""

    def __init__(self, data: dict[str, Any] | None = None):
        self.kept: dict[str, list[int]] = data["k"] if data else {}
        self.aggregates: dict[str, list[Any]] = data["s"] if data else {}

    def to_json(self, version: int) -> dict[str, Any]:
        return {"v": version, "k": self.kept, "s": self.aggregates}

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
        name = f"{key}\n{ALLOWED if allowed else REFUSED}"
        agg = self.aggregates.get(name)
        if agg is None:
            agg = self.aggregates[name] = [at, at, 0, agent, app, mode, method, status, []]
        agg[COUNT] += 1
        agg[FIRST] = min(agg[FIRST], at)
        if at >= agg[LAST]:
            agg[LAST], agg[MODE], agg[METHOD], agg[STATUS] = at, mode, method, status
        sample = target[:SAMPLE_CHARS]
        if len(agg[TARGETS]) < SAMPLES and sample not in agg[TARGETS]:
            agg[TARGETS].append(sample)
        return False


__all__ = ["ALLOWED_KEPT", "REFUSALS_KEPT", "SAMPLES", "Tally", "tally_name"]
