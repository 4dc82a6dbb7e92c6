"""Solid resource semantics over the sealed store (Solid Protocol 0.11 §5, LDP §5.2).

Every operation runs in one store transaction: it reads what it needs, checks preconditions
and Solid's rules, and writes; any error rolls the whole transaction back, so a failed request
leaves stored data exactly as it was.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import quote, unquote

import pyoxigraph as ox

from pod.errors import (
    Conflict,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
    UnverifiedStatement,
)
from pod.resources import membership, rdf, shapes, usage
from pod.resources.checks import BUDGET, WHAT, ProofJob, WriteChecks, check_triples
from pod.resources.conditions import Conditions
from pod.resources.graphs import GraphCache
from pod.resources.patch import ParsedPatch
from pod.resources.paths import AUX_SUFFIXES, SEGMENT_SAFE, Target
from pod.resources.patterns import OverBudget
from pod.resources.records import BINARY, CONTAINER, RDF, Resource
from pod.resources.representation import keep_members, prepare, represent_triples
from pod.resources.typeindex import TypeIndexes
from pod.resources.usage import Change, Quota, Usage
from pod.resources.workers import Workers
from pod.store.sealed import PodKeys, SealedReader, SealedStore, SealedTransaction
from vocab.namespaces import LDP, OBV3, PIM, iri_of, namespace_of, node_of
from vocab.namespaces import RDF as RDF_NS
from vocab.terms import CP

INLINE_BUDGET = 20_000
"""Steps a patch may take inside the write transaction (about a few milliseconds); a costlier
one is applied outside it, in a thread, within the full budget."""
PIM_STORAGE = node_of(PIM.Storage)
RDF_TYPE = node_of(RDF_NS.type)
CONTAINS = node_of(LDP.contains)
CONTAINER_TYPES = (node_of(LDP.Container), node_of(LDP.BasicContainer), node_of(LDP.Resource))
#: what a container's Turtle starts with, and the type a pod root adds (see ``turtle``)
_LDP_PREFIX = f"@prefix ldp: <{namespace_of(LDP)}>.\n"
_STORAGE_TYPE = f", <{iri_of(PIM.Storage)}>"
#: classes whose instances are signed statements: stored only with a proof that verifies
SIGNED_CLASSES = frozenset({iri_of(CP.RewardStatement), iri_of(CP.ReputationStatement),
                            iri_of(OBV3.EndorsementCredential)})

CREATE, UPDATE, DELETE = "Create", "Update", "Delete"


@dataclass(frozen=True, slots=True)
class Changed:
    """One committed write of a resource: ``kind`` is :data:`CREATE`, :data:`UPDATE` or
    :data:`DELETE`, ``state`` the resource's new ETag (``None``: deleted), ``made`` the paths of
    the intermediate containers the write created, outermost first."""

    keys: PodKeys
    target: Target
    kind: str
    state: str | None
    made: tuple[str, ...] = ()


class StatementCheck(Protocol):
    """The check of signed statements' proofs, wired in at start-up (resolving issuers' keys
    needs the network, which this layer does not reach). Each method raises
    :class:`~pod.errors.UnverifiedStatement` for a statement that does not verify."""

    @property
    def job(self) -> ProofJob:
        """The pure part, run in a worker with the other checks of the write."""

    def check_form(self, media_type: str, where: str) -> None:
        """Refuse a statement sent in a form that cannot carry a proof."""

    async def concluded(self, prepared: object, where: str) -> None:
        """Finish the check on the event loop: the issuer's key, the signature, validity."""


async def load(reader: SealedReader, path: str) -> Resource | None:
    """The resource stored at ``path``, or ``None``."""
    opened = await reader.get(path)
    return Resource.decode(opened.data, opened.version) if opened else None


class ResourceService:
    """Reads and writes resources of the pods on this server."""

    def __init__(self, store: SealedStore, base_url: str, workers: Workers,
                 quota: Quota | None = None, *, statements: StatementCheck | None = None,
                 pod_cache: int = 50_000):
        self.store = store
        self.base_url = base_url
        self.workers = workers
        self.quota = quota or Quota()  # the server's default per pod (settings)
        self._graphs = GraphCache()
        self._indexes = TypeIndexes(pod_cache)
        self._listeners: list[Callable[[bytes, str], None]] = [self._indexes.touched]
        self._changes: list[Callable[[Changed], None]] = []
        self.statements = statements  # proofs of signed statements; None: refused unchecked

    def url(self, target: Target, path: str | None = None) -> str:
        return f"{self.base_url}{target.pod}{path or target.path}"

    # --- reading ---------------------------------------------------------------------------

    async def get(self, keys: PodKeys, target: Target) -> Resource | None:
        async with self.store.read(keys) as reader:
            return await load(reader, target.path)

    async def members(self, reader: SealedReader, target: Target, res: Resource) -> list[str]:
        """A container's member names (empty for other resources)."""
        return await membership.members(reader, target.path, res) if _is_dir(res) else []

    def server_triples(self, target: Target, members: list[str]) -> list[ox.Triple]:
        """Containment and type triples the server manages for a container (LDP §5.2.1)."""
        node = ox.NamedNode(self.url(target))
        out = [ox.Triple(node, RDF_TYPE, t) for t in CONTAINER_TYPES]
        if target.is_root:
            out.append(ox.Triple(node, RDF_TYPE, PIM_STORAGE))
        base = self.url(target)
        out.extend(ox.Triple(node, CONTAINS, ox.NamedNode(base + c)) for c in members)
        return out

    def turtle(self, target: Target, res: Resource, members: list[str]) -> bytes:
        """A container's Turtle, without re-parsing: its managed triples are written directly
        (member names are canonical segments, always valid inside an IRI)."""
        url = self.url(target)
        types = "ldp:Container, ldp:BasicContainer, ldp:Resource"
        if target.is_root:
            types += _STORAGE_TYPE
        contains = ""
        if members:
            contains = ";\n  ldp:contains " + ",\n    ".join(f"<{url}{c}>" for c in members)
        head = f"{_LDP_PREFIX}<{url}> a {types}{contains}.\n"
        return head.encode() + res.body

    def triples(self, pod_id: bytes, target: Target, res: Resource,
                members: list[str]) -> list[ox.Triple]:
        """All triples of an RDF resource or container."""
        key = (pod_id, target.path, res.version)
        own = self._graphs.get(key)
        if own is None:
            own = tuple(rdf.parse(res.body, res.content_type, self.url(target))) \
                if res.body else ()
            self._graphs.put(key, own)
        if res.kind == CONTAINER:
            return [*self.server_triples(target, members), *own]
        return list(own)

    async def registered(self, keys: PodKeys, pod: str, cls: str) -> list[str]:
        """URLs of the containers the owner's type indexes register for ``cls``."""
        target = Target(pod, "/")
        async with self.store.read(keys) as reader:
            found = await self._indexes.registrations(keys.pod_id, self.url(target), reader,
                                                      self._reader(keys, target))
        return sorted(self.url(target, path) for path, classes in found.containers.items()
                      if cls in classes)

    # --- writing ---------------------------------------------------------------------------

    async def put(
        self, keys: PodKeys, target: Target, body: bytes, content_type: str | None,
        cond: Conditions,
    ) -> tuple[bool, Resource]:
        """Create or replace a resource (Solid Protocol §5.3); ``True`` when created. The body
        is parsed and validated before the write transaction, which only stores it."""
        checks = await self._checks(keys, target)
        res, prepared = await prepare(self.workers, target, self.url(target), body,
                                      content_type, checks)
        await self._concluded(checks, res, prepared)
        async with self.store.write(keys) as tx:
            await tx.prefetch([target.path, usage.RECORD])  # (PostgreSQL: one round trip)
            current = await load(tx, target.path)
            cond.check_write(current)
            if current is None:
                await self._check_new(tx, target)
            change = Change()
            stored = await self._store(tx, target, keep_members(res, current), current, change)
            await usage.settle(tx, change, self.quota)
        self._changed(keys, target, CREATE if current is None else UPDATE, stored, change)
        return current is None, stored

    async def post(
        self, keys: PodKeys, target: Target, body: bytes, content_type: str | None,
        slug: str | None, container: bool,
    ) -> tuple[Target, Resource]:
        """Create a new member of a container, never overwriting one (Solid Protocol §5.3).

        The name is the slug's (or a random one) at first, unchecked: the write transaction
        finds whether it is taken, and only then is a free one looked for (a slug taken
        already: ``slug-1``…), so a POST reads the container once."""
        for attempt in range(4):  # a name taken between choosing and writing: choose again
            if attempt == 0:
                name = _first_name(slug, container)
            else:
                async with self.store.read(keys) as reader:
                    await _postable(reader, target)
                    name = await _free_name(reader, target, slug, container)
            child = target.with_path(target.path + name)
            checks = await self._checks(keys, child)
            res, prepared = await prepare(self.workers, child, self.url(child), body,
                                          content_type, checks)
            await self._concluded(checks, res, prepared)
            async with self.store.write(keys) as tx:
                # what the transaction reads, in one query on PostgreSQL: the container, the
                # new name and its twin, the pod's usage, and the container's first page of
                # members (most containers have one page)
                await tx.prefetch([target.path, child.path, child.twin, usage.RECORD,
                                   membership.page_name(target.path, 0)])
                parent = await _postable(tx, target)
                if await tx.exists(child.path) or await tx.exists(child.twin):
                    continue
                change = Change()
                await self._link(tx, child, change, {target.path: parent})
                res.version = await tx.put(child.path, res.encode())
                change.replaced(None, res)
                await usage.settle(tx, change, self.quota)
            self._changed(keys, child, CREATE, res, change)
            return child, res
        raise Conflict("could not find a free name in the container; try again")

    async def patch(
        self, keys: PodKeys, target: Target, patch: ParsedPatch, cond: Conditions
    ) -> tuple[bool, Resource]:
        """Apply an N3 Patch or SPARQL Update (Solid Protocol §5.3.1); creates when missing.

        A patch that is cheap — within :data:`INLINE_BUDGET` steps, on a document no shape or
        proof check applies to — runs inside the write transaction, as the fastest path.
        Otherwise it is applied (in a thread) and checked outside the transaction, which
        stores the result if the resource is still the version the patch was applied to; if a
        concurrent write changed it, the patch is applied again inside the transaction, so no
        update is ever lost."""
        if await self._checks(keys, target) is None:  # no shape or proof to check
            try:
                return await self._patch_inline(keys, target, patch, cond)
            except OverBudget:
                pass  # costly: apply it outside the transaction
        async with self.store.read(keys) as reader:
            current = await load(reader, target.path)
            cond.check_write(current)
            before = await self._patchable(reader, keys, target, current)
        res, own = await self._patched(keys, target, patch, current, before)
        async with self.store.write(keys) as tx:
            latest = await load(tx, target.path)
            cond.check_write(latest)
            if _version(latest) != _version(current):
                current = latest
                before = await self._patchable(tx, keys, target, current)
                res, own = await self._patched(keys, target, patch, current, before)
            change = await self._patch_store(tx, keys, target, current, res, own)
        self._changed(keys, target, CREATE if current is None else UPDATE, res, change)
        return current is None, res

    async def _patch_inline(self, keys: PodKeys, target: Target, patch: ParsedPatch,
                            cond: Conditions) -> tuple[bool, Resource]:
        async with self.store.write(keys) as tx:
            await tx.prefetch([target.path, usage.RECORD])
            current = await load(tx, target.path)
            cond.check_write(current)
            triples, managed = await self._patchable(tx, keys, target, current)
            after = patch.apply(triples, INLINE_BUDGET)
            res, own = self._patch_result(target, after, managed)
            change = await self._patch_store(tx, keys, target, current, res, own)
        self._changed(keys, target, CREATE if current is None else UPDATE, res, change)
        return current is None, res

    async def _patch_store(self, tx: SealedTransaction, keys: PodKeys, target: Target,
                           current: Resource | None, res: Resource, own: list[ox.Triple]
                           ) -> Change:
        if current is None:
            await self._check_new(tx, target)
        change = Change()
        await self._store(tx, target, keep_members(res, current), current, change)
        await usage.settle(tx, change, self.quota)
        self._graphs.put((keys.pod_id, target.path, res.version), tuple(own))
        return change

    async def _patchable(self, reader: SealedReader, keys: PodKeys, target: Target,
                         current: Resource | None) -> tuple[set[ox.Triple], set[ox.Triple]]:
        """The resource's triples, and the server-managed ones a patch must keep."""
        if current is None:
            return set(), set()
        if current.kind == BINARY:
            raise UnsupportedMediaType("only RDF resources can be patched")
        members = await self.members(reader, target, current)
        managed = set(self.server_triples(target, members)) if _is_dir(current) else set()
        return set(self.triples(keys.pod_id, target, current, members)), managed

    async def _patched(self, keys: PodKeys, target: Target, patch: ParsedPatch,
                       current: Resource | None, before: tuple[set[ox.Triple], set[ox.Triple]]
                       ) -> tuple[Resource, list[ox.Triple]]:
        """Apply ``patch`` (in a thread: its matching is bounded, not instant) and validate."""
        triples, managed = before
        after = await asyncio.to_thread(patch.apply, triples)
        res, own = self._patch_result(target, after, managed)
        checks = await self._checks(keys, target)
        if checks is not None and res.kind == RDF:
            prepared = await self.workers.run(check_triples, own, res.body, res.content_type,
                                              checks, budget=BUDGET, what=WHAT)
            await self._concluded(checks, res, prepared)
        return res, own

    def _patch_result(self, target: Target, after: set[ox.Triple], managed: set[ox.Triple]
                      ) -> tuple[Resource, list[ox.Triple]]:
        """The record a patched graph is stored as (its triples without the managed ones)."""
        if managed and not managed <= after:
            raise Conflict("a PATCH cannot remove the server-managed containment triples")
        own = [t for t in after if t not in managed]
        return represent_triples(target, own), own

    async def delete(self, keys: PodKeys, target: Target, cond: Conditions) -> None:
        """Delete a resource and its auxiliary resources (Solid Protocol §5.4)."""
        if target.is_root:
            raise MethodNotAllowed("the pod root cannot be deleted", headers={"Allow": _ROOT_ALLOW})
        if target.path == "/.acl":
            raise MethodNotAllowed("the pod root's ACL can be replaced, not deleted",
                                   headers={"Allow": _ROOT_ACL_ALLOW})
        async with self.store.write(keys) as tx:
            current = await load(tx, target.path)
            if current is None:
                raise NotFound()
            cond.check_write(current)
            if current.kind == CONTAINER and current.count:
                raise Conflict("the container is not empty; delete its members first")
            change = Change()
            await tx.delete(target.path)
            change.replaced(current, None)
            if current.kind == CONTAINER:
                await membership.drop(tx, target.path, current)
            if not target.aux:
                for suffix in AUX_SUFFIXES:
                    aux = await load(tx, target.aux_path(suffix))
                    if aux is not None:
                        await tx.delete(target.aux_path(suffix))
                        change.replaced(aux, None)
                await self._unlink(tx, target)
            await usage.settle(tx, change, self.quota)
        self._changed(keys, target, DELETE, None, change)

    async def write_new(
        self, tx: SealedTransaction, target: Target, body: bytes, media_type: str,
        change: Change,
    ) -> Resource:
        """Store a new resource inside a caller's transaction (pod provisioning), counting
        it in ``change`` (which the caller records with :func:`usage.start`)."""
        res = represent_triples(target, rdf.parse(body, media_type, self.url(target)), body)
        if target.is_root:
            res.version = await tx.put(target.path, res.encode())
            change.replaced(None, res)
            return res
        return await self._store(tx, target, res, None, change)

    async def restore(self, tx: SealedTransaction, keys: PodKeys, target: Target,
                      res: Resource, change: Change) -> Resource:
        """Store a resource read from a pod archive inside a caller's transaction, as it was
        (its kind, media type, modified time and body), counting it in ``change``; a container
        keeps the members linked to it already. The caller checked the body."""
        current = await load(tx, target.path)
        if current is None and not target.is_root:
            await self._check_new(tx, target)
        stored = await self._store(tx, target, keep_members(res, current), current, change)
        self._touched(keys.pod_id, target.path)
        return stored

    async def usage(self, keys: PodKeys) -> tuple[Usage, Quota]:
        """What the pod holds and the quota that applies to it, from one read snapshot."""
        async with self.store.read(keys) as reader:
            found = await usage.read(reader)
        return found, found.quota(self.quota)

    async def pod_usage(self, keys: PodKeys, own: dict[str, int | None] | None = None
                        ) -> tuple[Usage, Quota]:
        """What the pod holds and the quota that applies to it. ``own`` sets the pod's own
        quota (``{"max_bytes": N, "max_resources": N}``; ``None``: the server's setting)."""
        async with self.store.write(keys) as tx:
            found = await usage.current(tx)
            if own:
                found = replace(found, max_bytes=own.get("max_bytes", found.max_bytes),
                                max_resources=own.get("max_resources", found.max_resources))
                await tx.put(usage.RECORD, found.encode())
        return found, found.quota(self.quota)

    def on_write(self, listener: Callable[[bytes, str], None]) -> None:
        """Call ``listener(pod_id, path)`` after each committed write (caches built from
        documents, such as access grants, drop what a write may have changed)."""
        self._listeners.append(listener)

    def on_change(self, listener: Callable[[Changed], None]) -> None:
        """Call ``listener(changed)`` after each committed write of a resource through the
        LDP operations (put, post, patch, delete): what live notifications are made of. It
        runs on the event loop before the answer is sent, so it must only queue work."""
        self._changes.append(listener)

    # --- internals -------------------------------------------------------------------------

    def _reader(self, keys: PodKeys, target: Target
                ) -> Callable[[SealedReader, str], Awaitable[list[ox.Triple] | None]]:
        """Reads a pod's RDF documents by path (for the type index)."""
        async def read(reader: SealedReader, path: str) -> list[ox.Triple] | None:
            found = await load(reader, path)
            if found is None or found.kind == BINARY:
                return None
            return self.triples(keys.pod_id, target.with_path(path), found, [])
        return read

    def _touched(self, pod_id: bytes, path: str) -> None:
        for listener in self._listeners:
            listener(pod_id, path)

    def _changed(self, keys: PodKeys, target: Target, kind: str, res: Resource | None,
                 change: Change) -> None:
        self._touched(keys.pod_id, target.path)
        if self._changes:
            changed = Changed(keys, target, kind, res.etag if res is not None else None,
                              tuple(change.made))
            for listener in self._changes:
                listener(changed)

    async def _checks(self, keys: PodKeys, target: Target) -> WriteChecks | None:
        """The checks a write of ``target`` must pass, when the owner's type index registers
        its container for a class with a shape or for signed statements; else ``None``."""
        if target.aux or target.is_container:
            return None
        registered = await self._registered(keys, target)
        shaped = frozenset(registered & shapes.shaped_classes())
        signed = bool(registered & SIGNED_CLASSES)
        if not shaped and not signed:
            return None
        where = self.url(target, target.parent)
        if signed and self.statements is None:
            raise UnverifiedStatement(f"{where} is registered for signed statements, which "
                                      "cannot be verified here",
                                      reasons=["this server process verifies no statements"])
        return WriteChecks(where, shaped,
                           self.statements.job if signed and self.statements else None)

    async def _concluded(self, checks: WriteChecks | None, res: Resource,
                         prepared: object | None) -> None:
        """Finish the checks of a write on the event loop: a statement's proof is checked
        against its issuer's key (a document that is not RDF is checked by none)."""
        if checks is None or checks.proof is None or res.kind != RDF or self.statements is None:
            return
        self.statements.check_form(res.content_type, checks.where)
        if prepared is None:
            raise RuntimeError("a statement's proof check was not prepared")
        await self.statements.concluded(prepared, checks.where)

    async def _registered(self, keys: PodKeys, target: Target) -> set[str]:
        """The classes the owner's type indexes register ``target``'s container for."""
        async with self.store.read(keys) as reader:
            found = await self._indexes.registrations(keys.pod_id, self.url(target, "/"),
                                                      reader, self._reader(keys, target))
        return found.classes_for(target.path)

    async def _check_new(self, tx: SealedTransaction, target: Target) -> None:
        """A new resource needs no twin (``/x`` vs ``/x/``) and, if auxiliary, a subject."""
        if target.aux:
            if await tx.get(target.subject.path) is None:
                raise NotFound(f"there is no resource {target.subject.path} for this {target.aux}")
            return
        if await tx.get(target.twin) is not None:
            raise Conflict(f"{target.twin} exists; {target.path} cannot exist beside it")

    async def _store(
        self, tx: SealedTransaction, target: Target, res: Resource, current: Resource | None,
        change: Change,
    ) -> Resource:
        if current is None and not target.aux:
            await self._link(tx, target, change)
        res.version = await tx.put(target.path, res.encode())
        change.replaced(current, res)
        return res

    async def _link(self, tx: SealedTransaction, target: Target, change: Change,
                    known: dict[str, Resource] | None = None) -> None:
        """Add ``target`` to its parent, creating missing intermediate containers (counted
        in ``change``); ``known`` holds containers the caller has loaded in this transaction
        already."""
        chain = [*target.ancestors(), target.path]
        if known:
            chain = chain[chain.index(next(iter(known))):]
        for parent_path, child_path in itertools.pairwise(chain):
            parent = (known or {}).get(parent_path) or await load(tx, parent_path)
            if parent is None:
                twin = target.with_path(parent_path).twin
                if await tx.get(twin) is not None:
                    raise Conflict(f"{twin} is not a container")
                parent = Resource(CONTAINER, rdf.TURTLE, time.time())
                change.replaced(None, parent)
                change.made.append(parent_path)
            elif parent.kind != CONTAINER:
                raise Conflict(f"{parent_path} is not a container")
            if not await membership.add(tx, parent_path, parent, child_path[len(parent_path):]):
                continue
            parent.modified = time.time()
            await tx.put(parent_path, parent.encode())

    async def _unlink(self, tx: SealedTransaction, target: Target) -> None:
        parent_path = target.parent
        assert parent_path is not None
        parent = await load(tx, parent_path)
        if parent is not None and await membership.remove(tx, parent_path, parent, target.name):
            parent.modified = time.time()
            await tx.put(parent_path, parent.encode())

def _is_dir(res: Resource | None) -> bool:
    return res is not None and res.kind == CONTAINER


async def _postable(reader: SealedReader, target: Target) -> Resource:
    """The container a POST adds to: it must exist and be a container."""
    parent = await load(reader, target.path)
    if parent is None:
        raise NotFound("the container to POST to does not exist")
    if parent.kind != CONTAINER:
        raise MethodNotAllowed("POST needs a container", headers={"Allow": _DOC_ALLOW})
    return parent


def _first_name(slug: str | None, container: bool) -> str:
    """The name a POST tries first: the slug's, or a random one."""
    name = (_slug_segment(slug) if slug else "") or secrets.token_hex(8)
    return name + "/" if container else name


async def _free_name(reader: SealedReader, target: Target, slug: str | None,
                     container: bool) -> str:
    """A member name not yet taken in ``target``: the slug's, or a random one."""
    base = _slug_segment(slug) if slug else ""
    name = base or secrets.token_hex(8)
    while True:
        if not await reader.exists(target.path + name) and \
                not await reader.exists(target.path + name + "/"):
            return name + "/" if container else name
        name = f"{base}-{secrets.token_hex(3)}" if base else secrets.token_hex(8)


def _version(res: Resource | None) -> bytes | None:
    return res.version if res is not None else None


def _slug_segment(slug: str) -> str:
    """A safe, canonical segment from a ``Slug`` header (RFC 5023 §9.7), or ``""``."""
    text = unquote(slug).strip().replace("/", "-")
    text = "".join(c for c in text if c.isprintable()).strip(".")
    if text.endswith(AUX_SUFFIXES):
        text += "-"
    return quote(text[:200], safe=SEGMENT_SAFE)


_DOC_ALLOW = "OPTIONS, HEAD, GET, PUT, PATCH, DELETE"
_ROOT_ALLOW = "OPTIONS, HEAD, GET, POST, PUT, PATCH"
_ROOT_ACL_ALLOW = "OPTIONS, HEAD, GET, PUT, PATCH"
