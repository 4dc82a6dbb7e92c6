"""The pod browser's reads and writes: what a person's pages do to a pod, decided and logged
as the same request through the API would be.

The browser pages act as the signed-in person's WebID, directly (no app), like the sharing
pages: every view and every write goes through the read service's decision (WAC, bounded by
access grants), the resource service (Solid semantics, shapes, quotas) and the access log's
one rule of who is recorded. Nothing here knows HTTP; a refusal raises the same 401/403 as the
API would, after it is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from pod.access.agent import Agent
from pod.access.audit import AccessLog
from pod.access.decide import AccessDecider, Decision
from pod.access.reading import Found, ReadService
from pod.errors import PodError, TooCostly
from pod.resources.conditions import Conditions
from pod.resources.paths import ACL_SUFFIX, Target
from pod.resources.records import CONTAINER, Resource
from pod.resources.service import ResourceService, load
from pod.store.sealed import PodKeys

MAX_LISTED = 1000
"""Members a container's page shows details of (the rest are counted)."""
MAX_TREE = 10_000
"""Resources one recursive delete takes away at most (a larger folder: delete in parts)."""
_MODES = {"GET": "read", "HEAD": "read", "POST": "append"}


@dataclass(frozen=True, slots=True)
class Entry:
    """One member of a container as its page lists it."""

    name: str  # canonical segment, with a container's trailing slash
    path: str
    kind: str | None  # records.RDF, BINARY or CONTAINER; None: listed but unreadable
    content_type: str | None
    size: int | None
    modified: float | None
    count: int | None  # a container's members


@dataclass(frozen=True, slots=True)
class Listing:
    """A container's members, up to :data:`MAX_LISTED` of them with details."""

    entries: list[Entry]
    total: int


class PodBrowsing:
    """Views and writes of the pod browser, for one agent at a time."""

    def __init__(self, access: AccessDecider, reads: ReadService, resources: ResourceService,
                 log: AccessLog):
        self.access, self.reads, self.resources, self.log = access, reads, resources, log

    def _record(self, keys: PodKeys, target: Target, agent: Agent, method: str, status: int,
                grant: str | None) -> None:
        mode = "control" if target.aux == ACL_SUFFIX else _MODES.get(method, "write")
        self.log.record_request(keys, self.access.owner(target.pod), agent,
                                self.resources.url(target), mode, method, status, grant)

    def _require(self, keys: PodKeys, target: Target, agent: Agent, method: str,
                 decision: Decision) -> None:
        """Raise 401/403 (recorded first) unless ``decision`` allows the request."""
        if not decision.allowed:
            status = 403 if agent.authenticated else 401
            self._record(keys, target, agent, method, status, decision.grant)
            decision.require()

    async def view(self, keys: PodKeys, target: Target, agent: Agent,
                   found: Found | None = None) -> Found:
        """A GET of ``target`` as the API answers it: 401/403 when refused, the resource
        (``None`` when there is none) and its members when allowed. ``found``: what
        :meth:`ReadService.get` already found for ``agent`` (it is recorded, not read again)."""
        found = found or await self.reads.get(keys, target, agent)
        self._require(keys, target, agent, "GET", found.decision)
        status = 200 if found.resource is not None else 404
        self._record(keys, target, agent, "GET", status, found.decision.grant)
        return found

    async def listing(self, keys: PodKeys, target: Target, agent: Agent,
                      members: list[str]) -> Listing:
        """Details of a container's members (kind, media type, size, time) from one
        snapshot: of those ``agent`` may read, each decided as a GET of it; the others only
        by name and kind (the container's listing names them anyway)."""
        entries: list[Entry] = []
        async with self.resources.store.read(keys) as reader:
            for name in members[:MAX_LISTED]:
                member = target.with_path(target.path + name)
                decision = await self.access.decide_read(reader, keys, member, agent)
                res = await load(reader, member.path) if decision.allowed else None
                entries.append(_entry(name, member.path, res))
        return Listing(entries, len(members))

    async def tree(self, keys: PodKeys, target: Target, agent: Agent) -> list[str]:
        """Every resource a recursive delete of ``target`` takes away, deepest first, ending
        with ``target`` itself (auxiliary resources go with their subject). Refused (401/403)
        unless ``agent`` may read ``target``; 422 past :data:`MAX_TREE` resources."""
        found = await self.view(keys, target, agent)
        res = found.resource_or_raise()
        out: list[str] = []
        async with self.resources.store.read(keys) as reader:
            stack = [(target.path, res, False)]
            while stack:
                path, current, expanded = stack.pop()
                if current.kind != CONTAINER or expanded:
                    out.append(path)
                    if len(out) > MAX_TREE:
                        raise TooCostly(f"more than {MAX_TREE} resources would go at once; "
                                        "delete what is inside in parts first")
                    continue
                stack.append((path, current, True))
                here = target.with_path(path)
                for name in await self.resources.members(reader, here, current):
                    child = await load(reader, path + name)
                    if child is not None:
                        stack.append((path + name, child, False))
        return out

    async def delete(self, keys: PodKeys, target: Target, agent: Agent,
                     paths: list[str]) -> int:
        """Delete ``paths`` (from :meth:`tree`) in order, each decided and logged as a DELETE
        of it; stops at the first refusal or failure (what went before stays deleted, as
        with a client deleting one by one). Returns how many were deleted."""
        done = 0
        for path in paths:
            each = target.with_path(path)
            decision = await self.reads.decide_write(keys, each, agent, "DELETE")
            self._require(keys, each, agent, "DELETE", decision)
            try:
                await self.resources.delete(keys, each, Conditions())
            except PodError as error:
                self._record(keys, each, agent, "DELETE", error.status, decision.grant)
                raise
            self._record(keys, each, agent, "DELETE", 204, decision.grant)
            done += 1
        return done

    async def put(self, keys: PodKeys, target: Target, agent: Agent, body: bytes,
                  content_type: str, conditions: Conditions) -> tuple[bool, Resource]:
        """A PUT of ``body`` (creating or replacing): ``True`` when created."""
        decision = await self.reads.decide_write(keys, target, agent, "PUT")
        self._require(keys, target, agent, "PUT", decision)
        try:
            created, res = await self.resources.put(keys, target, body, content_type,
                                                    conditions)
        except PodError as error:
            self._record(keys, target, agent, "PUT", error.status, decision.grant)
            raise
        self._record(keys, target, agent, "PUT", 201 if created else 204, decision.grant)
        return created, res

    async def post(self, keys: PodKeys, container: Target, agent: Agent, body: bytes,
                   content_type: str | None, slug: str | None, folder: bool) -> Target:
        """A POST into ``container``: a new member named after ``slug`` (a new folder when
        ``folder``); returns where it went."""
        decision = await self.reads.decide_write(keys, container, agent, "POST")
        self._require(keys, container, agent, "POST", decision)
        try:
            child, _ = await self.resources.post(keys, container, body, content_type, slug,
                                                 folder)
        except PodError as error:
            self._record(keys, container, agent, "POST", error.status, decision.grant)
            raise
        self._record(keys, container, agent, "POST", 201, decision.grant)
        return child


def _entry(name: str, path: str, res: Resource | None) -> Entry:
    if res is None:
        kind = CONTAINER if name.endswith("/") else None
        return Entry(name, path, kind, None, None, None, None)
    return Entry(name, path, res.kind, res.content_type,
                 None if res.kind == CONTAINER else len(res.body), res.modified,
                 res.count if res.kind == CONTAINER else None)
