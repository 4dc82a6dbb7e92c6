"""Reading a pod under the access decision: what a GET, a bulk read (``/.api/collect``) and a
write's access decision learn from one snapshot of a pod.

The HTTP edges parse requests and render answers; what a read decides — whether the caller may
read a resource, what a refusal gives away, which documents a bulk read includes — lives here,
so a GET and a bulk read cannot drift apart. Each answer comes from one store read transaction
(a snapshot), and every resource in it is decided as a GET of it is (Solid Protocol §5.2,
WAC §5). Decisions come back as values (:class:`~pod.access.decide.Decision`), refusals
included, so the edge records the request — with the grant consulted — before it raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from pod.access.agent import Agent
from pod.access.decide import AccessDecider, Decision
from pod.access.modes import Mode, required
from pod.errors import NotFound
from pod.resources import membership
from pod.resources.paths import Target
from pod.resources.records import RDF, Resource
from pod.resources.service import ResourceService, load
from pod.store.sealed import PodKeys, SealedReader
from vocab.namespaces import LDP, node_of

__all__ = ["Collected", "Found", "PodKeys", "ReadService"]  # PodKeys: the edge names it

MAX_DOCUMENTS = 10_000
"""Documents a bulk read takes from each registered container (at any depth)."""
CONTAINS = node_of(LDP.contains)


@dataclass(frozen=True, slots=True)
class Found:
    """What a GET found: the decision and, when it allows the read, the resource (``None``:
    there is none) and a container's member names."""

    decision: Decision
    resource: Resource | None = None
    members: list[str] = field(default_factory=list)

    def resource_or_raise(self) -> Resource:
        """The resource; raises 401/403 when the read was refused (before anything says
        whether the resource exists), 404 when there is none."""
        self.decision.require()
        if self.resource is None:
            raise NotFound()
        return self.resource


@dataclass(frozen=True, slots=True)
class Collected:
    """What a bulk read found: the triples it answers with, and the decision on the whole
    read (refused when the caller may read nothing of the class)."""

    triples: list[ox.Triple]
    decision: Decision


class ReadService:
    """Reads pods for the HTTP edges, deciding access on every resource it reads."""

    def __init__(self, access: AccessDecider, resources: ResourceService):
        self.access, self.resources = access, resources
        self.store = resources.store

    async def get(self, keys: PodKeys, target: Target, agent: Agent) -> Found:
        """A GET or HEAD of ``target`` (Solid Protocol §5.2): the decision first, then — only
        when it allows the read — the resource and its members, from one snapshot."""
        async with self.store.read(keys) as reader:
            decision = await self.access.decide_read(reader, keys, target, agent)
            if decision.refused is not None:
                return Found(decision)
            res = await load(reader, target.path)
            if res is None:
                return Found(decision)
            return Found(decision, res, await self.resources.members(reader, target, res))

    async def decide_read(self, keys: PodKeys, target: Target, agent: Agent) -> Decision:
        """Whether ``agent`` may GET ``target`` (WAC §5), without reading it."""
        async with self.store.read(keys) as reader:
            return await self.access.decide_read(reader, keys, target, agent)

    async def decide_write(self, keys: PodKeys, target: Target, agent: Agent, method: str, *,
                           patch_reads: bool = False, patch_deletes: bool = True) -> Decision:
        """The decision on a PUT, POST, PATCH or DELETE (WAC §5). What it needs depends on
        the snapshot: whether ``target`` exists, and which container receives a new resource
        (the nearest that exists, when intermediate containers are created too)."""
        async with self.store.read(keys) as reader:
            exists = method not in ("PUT", "PATCH") or await reader.exists(target.path)
            receiver = None if exists or target.aux else await _nearest(reader, target)
            needs = required(method, target, exists, receiver=receiver,
                             patch_reads=patch_reads, patch_deletes=patch_deletes)
            return await self.access.decide(reader, keys, target, agent, needs)

    async def collect(self, keys: PodKeys, pod: str, cls: str, agent: Agent) -> Collected:
        """Every document of class ``cls`` in ``pod`` that ``agent`` may read, each decided as
        a GET of it would be: their triples, and ``ldp:contains`` from their container.

        The owner's type index says which containers hold the class. A caller who may read
        nothing of it is refused whether its containers hold documents or not, and a class the
        owner has not registered is refused the same way, so neither the type index nor its
        emptiness leaks; only the owner (directly, not through an app) hears 404 for a class
        they registered no container for."""
        base = self.resources.url(Target(pod, "/"))
        containers = [u[len(base) - 1:] for u in await self.resources.registered(keys, pod, cls)]
        owner = agent.app is None and agent.webid == self.access.owner(pod)
        refused = (Mode.READ, f"the {cls} resources of {base}")
        if not containers:
            if owner:
                raise NotFound(f"you have registered no container for {cls}")
            return Collected([], Decision(agent, set(), (), refused))
        triples, readable, used = await self._collect(keys, pod, containers, agent)
        if not readable and not owner:
            return Collected([], Decision(agent, set(), used, refused))
        return Collected(triples, Decision(agent, {Mode.READ} if readable else set(), used))

    async def _collect(self, keys: PodKeys, pod: str, containers: list[str], agent: Agent
                       ) -> tuple[list[ox.Triple], bool, tuple[str, ...]]:
        """The readable documents' triples; whether the caller may read anything of the class
        — one of its documents or, when there are none, one of its containers (where documents
        the caller could read would go); and the grants consulted."""
        out: list[ox.Triple] = []
        used: list[str] = []
        readable = False
        async with self.store.read(keys) as reader:
            for container in containers:
                paths = await membership.documents(reader, container, MAX_DOCUMENTS)
                if not paths:
                    target = Target(pod, container)
                    decision = await self.access.decide(reader, keys, target, agent,
                                                        required("GET", target, True))
                    used.extend(decision.grants)
                    readable = readable or decision.allowed
                for path in paths:
                    target = Target(pod, path)
                    decision = await self.access.decide(reader, keys, target, agent,
                                                        required("GET", target, True))
                    used.extend(decision.grants)
                    res = await load(reader, path) if decision.allowed else None
                    if res is None or res.kind != RDF:
                        continue
                    readable = True
                    parent = ox.NamedNode(self.resources.url(target, target.parent))
                    out.append(ox.Triple(parent, CONTAINS,
                                         ox.NamedNode(self.resources.url(target))))
                    out.extend(self.resources.triples(keys.pod_id, target, res, []))
        return out, readable, tuple(used)


async def _nearest(reader: SealedReader, target: Target) -> str | None:
    """The nearest existing container above ``target`` (the one a creation adds a member to)."""
    for path in reversed(target.ancestors()):
        if await reader.exists(path):
            return path
    return None
