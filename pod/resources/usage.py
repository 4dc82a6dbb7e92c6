"""What a pod holds, counted exactly, and its quota (507 beyond it, RFC 4918 §11.5).

What counts: the bytes of every stored body — documents, binaries, a container's own triples,
auxiliary resources (``.acl``, ``.meta``) — and the number of resources: documents, containers
(the root included) and auxiliary resources. Record headers, membership pages and the owner's
access log (written by the server, not the owner) do not count.

The count is the sealed record ``usage`` in the pod's own key space, a name no resource path
can spell (paths start with ``/``). Every write changes it in the same store transaction as
the resources it counts, so a crash can never make it drift, and writes are serialised, so
concurrent writers can never pass the quota together. A pod made before usage was counted has
no record: the first write (or ``commonpod pod usage``) measures it by walking its containers,
inside that write's transaction, and stores the result.

The same record holds the pod's own quota when the operator set one (``commonpod pod quota``);
otherwise the server's settings ``max_pod_bytes`` and ``max_pod_resources`` apply (0: none).
"""

from __future__ import annotations

import builtins
import json
from dataclasses import dataclass

from pod.errors import QuotaExceeded
from pod.resources import membership
from pod.resources.paths import AUX_SUFFIXES
from pod.resources.records import CONTAINER, Resource
from pod.store.sealed import SealedReader, SealedTransaction

RECORD = "usage"


@dataclass(frozen=True)
class Quota:
    """Largest bytes and resources per pod; 0 is no limit."""

    bytes: int = 0
    resources: int = 0


@dataclass
class Usage:
    """What a pod holds, and its own quota (``None``: the server's setting applies)."""

    bytes: int = 0
    resources: int = 0
    max_bytes: int | None = None
    max_resources: int | None = None

    def quota(self, default: Quota) -> Quota:
        """The quota that applies to this pod."""
        return Quota(default.bytes if self.max_bytes is None else self.max_bytes,
                     default.resources if self.max_resources is None else self.max_resources)

    def encode(self) -> builtins.bytes:  # `bytes` here is the field
        return json.dumps({"b": self.bytes, "r": self.resources, "qb": self.max_bytes,
                           "qr": self.max_resources}, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: builtins.bytes) -> Usage:
        d = json.loads(data)
        return cls(int(d["b"]), int(d["r"]), d.get("qb"), d.get("qr"))


class Change:
    """What one write transaction adds to (or takes from) a pod's usage, and the containers
    it made on the way (``made``: paths of intermediate containers, outermost first)."""

    __slots__ = ("bytes", "made", "resources")

    def __init__(self) -> None:
        self.bytes = self.resources = 0
        self.made: list[str] = []

    def replaced(self, old: Resource | None, new: Resource | None) -> None:
        """Count ``old`` (``None``: it did not exist) becoming ``new`` (``None``: deleted)."""
        self.bytes += (len(new.body) if new else 0) - (len(old.body) if old else 0)
        self.resources += (new is not None) - (old is not None)

    def __bool__(self) -> bool:
        return bool(self.bytes or self.resources)


async def measure(reader: SealedReader) -> Usage:
    """Walk the pod from its root: every resource, its auxiliary resources, their bodies."""
    found = Usage()
    stack = ["/"]
    while stack:
        path = stack.pop()
        for name in (path, *(path + suffix for suffix in AUX_SUFFIXES)):
            opened = await reader.get(name)
            if opened is None:
                continue
            res = Resource.decode(opened.data, opened.version)
            found.bytes += len(res.body)
            found.resources += 1
            if name == path and res.kind == CONTAINER:
                stack.extend(path + m for m in await membership.members(reader, path, res))
    return found


async def read(reader: SealedReader) -> Usage:
    """The pod's usage record, or — a pod made before usage was counted — its measure (not
    stored: a read changes nothing)."""
    opened = await reader.get(RECORD)
    return Usage.decode(opened.data) if opened is not None else await measure(reader)


async def current(tx: SealedTransaction) -> Usage:
    """The pod's usage record; measured and stored first if the pod has none yet."""
    opened = await tx.get(RECORD)
    if opened is not None:
        return Usage.decode(opened.data)
    found = await measure(tx)
    await tx.put(RECORD, found.encode())
    return found


async def start(tx: SealedTransaction, change: Change) -> None:
    """Count a new pod's first resources (provisioning is never refused for its quota)."""
    await tx.put(RECORD, Usage(change.bytes, change.resources).encode())


async def settle(tx: SealedTransaction, change: Change, default: Quota) -> None:
    """Add ``change`` to the pod's usage inside the transaction that made it; raise
    :class:`QuotaExceeded` (rolling the whole write back) when the write grows the pod past
    its quota. A write that shrinks or keeps a dimension is never refused on it."""
    if not change:
        return  # the same size as before: nothing to read or write
    opened = await tx.get(RECORD)
    if opened is None:  # first write since usage was counted: the walk sees this write too
        usage = await measure(tx)
    else:
        usage = Usage.decode(opened.data)
        usage.bytes += change.bytes
        usage.resources += change.resources
    _check(usage, change, usage.quota(default))
    await tx.put(RECORD, usage.encode())


def _check(after: Usage, change: Change, quota: Quota) -> None:
    over = []
    if change.bytes > 0 and quota.bytes and after.bytes > quota.bytes:
        over.append(f"{after.bytes} bytes, beyond its quota of {quota.bytes}")
    if change.resources > 0 and quota.resources and after.resources > quota.resources:
        over.append(f"{after.resources} resources, beyond its quota of {quota.resources}")
    if over:
        raise QuotaExceeded(
            f"this write would bring the pod to {' and '.join(over)}; nothing was written. "
            "Delete something to make room, or ask the operator for a larger quota",
            quota={"bytes": quota.bytes, "resources": quota.resources},
            usage={"bytes": after.bytes - change.bytes,
                   "resources": after.resources - change.resources})
