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
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import quote, unquote

import pyoxigraph as ox

from pod.errors import (
    BadRequest,
    Conflict,
    MethodNotAllowed,
    NotFound,
    UnsupportedMediaType,
)
from pod.resources import membership, rdf, shapes
from pod.resources.conditions import Conditions
from pod.resources.graphs import GraphCache
from pod.resources.patch import ParsedPatch
from pod.resources.paths import AUX_SUFFIXES, SEGMENT_SAFE, Target
from pod.resources.records import BINARY, CONTAINER, RDF, Resource
from pod.resources.typeindex import TypeIndexes
from pod.store.sealed import PodKeys, SealedReader, SealedStore, SealedTransaction

LDP = "http://www.w3.org/ns/ldp#"
PIM_STORAGE = ox.NamedNode("http://www.w3.org/ns/pim/space#Storage")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
CONTAINS = ox.NamedNode(LDP + "contains")
CONTAINER_TYPES = tuple(ox.NamedNode(LDP + t) for t in ("Container", "BasicContainer", "Resource"))


async def load(reader: SealedReader, path: str) -> Resource | None:
    """The resource stored at ``path``, or ``None``."""
    opened = await reader.get(path)
    return Resource.decode(opened.data, opened.version) if opened else None


class ResourceService:
    """Reads and writes resources of the pods on this server."""

    def __init__(self, store: SealedStore, base_url: str):
        self.store = store
        self.base_url = base_url
        self._graphs = GraphCache()
        self._indexes = TypeIndexes()
        self._listeners: list[Callable[[bytes, str], None]] = [self._indexes.touched]

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
            types += ", <http://www.w3.org/ns/pim/space#Storage>"
        contains = ""
        if members:
            contains = ";\n  ldp:contains " + ",\n    ".join(f"<{url}{c}>" for c in members)
        head = f"@prefix ldp: <{LDP}>.\n<{url}> a {types}{contains}.\n"
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
            found = await self._indexes.registrations(keys.pod_id, self.url(target),
                                                      self._reader(reader, keys, target))
        return sorted(self.url(target, path) for path, classes in found.containers.items()
                      if cls in classes)

    # --- writing ---------------------------------------------------------------------------

    async def put(
        self, keys: PodKeys, target: Target, body: bytes, content_type: str | None,
        cond: Conditions,
    ) -> tuple[bool, Resource]:
        """Create or replace a resource (Solid Protocol §5.3); ``True`` when created."""
        async with self.store.write(keys) as tx:
            current = await load(tx, target.path)
            cond.check_write(current)
            if current is None:
                await self._check_new(tx, target)
            res = self._represent(target, body, content_type, current)
            await self._validate(tx, keys, target, res)
            stored = await self._store(tx, target, res, current)
        self._touched(keys.pod_id, target.path)
        return current is None, stored

    async def post(
        self, keys: PodKeys, target: Target, body: bytes, content_type: str | None,
        slug: str | None, container: bool,
    ) -> tuple[Target, Resource]:
        """Create a new member of a container, never overwriting one (Solid Protocol §5.3)."""
        async with self.store.write(keys) as tx:
            parent = await load(tx, target.path)
            if parent is None:
                raise NotFound("the container to POST to does not exist")
            if parent.kind != CONTAINER:
                raise MethodNotAllowed("POST needs a container", headers={"Allow": _DOC_ALLOW})
            name = await self._free_name(tx, target, slug, container)
            child = target.with_path(target.path + name)
            res = self._represent(child, body, content_type, None)
            await self._validate(tx, keys, child, res)
            await self._link(tx, child, {target.path: parent})
            res.version = await tx.put(child.path, res.encode())
        self._touched(keys.pod_id, child.path)
        return child, res

    async def patch(
        self, keys: PodKeys, target: Target, patch: ParsedPatch, cond: Conditions
    ) -> tuple[bool, Resource]:
        """Apply an N3 Patch or SPARQL Update (Solid Protocol §5.3.1); creates when missing."""
        async with self.store.write(keys) as tx:
            current = await load(tx, target.path)
            cond.check_write(current)
            members: list[str] = []
            if current is None:
                await self._check_new(tx, target)
                before: set[ox.Triple] = set()
            elif current.kind == BINARY:
                raise UnsupportedMediaType("only RDF resources can be patched")
            else:
                members = await self.members(tx, target, current)
                before = set(self.triples(keys.pod_id, target, current, members))
            after = patch.apply(before)
            managed = set(self.server_triples(target, members)) if _is_dir(current) else set()
            if managed and not managed <= after:
                raise Conflict("a PATCH cannot remove the server-managed containment triples")
            own = [t for t in after if t not in managed]
            body = rdf.serialize(own, rdf.TURTLE)
            res = self._represent(target, body, rdf.TURTLE, current, parsed=own)
            await self._validate(tx, keys, target, res, own)
            await self._store(tx, target, res, current)
        self._touched(keys.pod_id, target.path)
        self._graphs.put((keys.pod_id, target.path, res.version), tuple(own))
        return current is None, res

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
            await tx.delete(target.path)
            if current.kind == CONTAINER:
                await membership.drop(tx, target.path, current)
            if target.aux:
                return
            for suffix in AUX_SUFFIXES:
                await tx.delete(target.aux_path(suffix))
            await self._unlink(tx, target)
        self._touched(keys.pod_id, target.path)

    async def write_new(
        self, tx: SealedTransaction, target: Target, body: bytes, media_type: str
    ) -> Resource:
        """Store a new resource inside a caller's transaction (pod provisioning)."""
        if target.is_root:
            res = self._represent(target, body, media_type, None)
            res.version = await tx.put(target.path, res.encode())
            return res
        return await self._store(tx, target, self._represent(target, body, media_type, None),
                                 None)

    def on_write(self, listener: Callable[[bytes, str], None]) -> None:
        """Call ``listener(pod_id, path)`` after each committed write (caches built from
        documents, such as access grants, drop what a write may have changed)."""
        self._listeners.append(listener)

    # --- internals -------------------------------------------------------------------------

    def _reader(self, reader: SealedReader, keys: PodKeys, target: Target
                ) -> Callable[[str], Awaitable[list[ox.Triple] | None]]:
        """Reads a pod's RDF documents by path (for the type index)."""
        async def read(path: str) -> list[ox.Triple] | None:
            found = await load(reader, path)
            if found is None or found.kind == BINARY:
                return None
            return self.triples(keys.pod_id, target.with_path(path), found, [])
        return read

    def _touched(self, pod_id: bytes, path: str) -> None:
        for listener in self._listeners:
            listener(pod_id, path)

    async def _validate(self, tx: SealedTransaction, keys: PodKeys, target: Target,
                        res: Resource, parsed: list[ox.Triple] | None = None) -> None:
        """Check RDF written where the owner's type index registers a shaped class."""
        if res.kind != RDF or target.aux:
            return
        found = await self._indexes.registrations(keys.pod_id, self.url(target, "/"),
                                                  self._reader(tx, keys, target))
        classes = found.classes_for(target.path) & shapes.shaped_classes()
        if not classes:
            return
        triples = parsed if parsed is not None else rdf.parse(res.body, res.content_type,
                                                              self.url(target))
        where = self.url(target, target.parent)
        await asyncio.to_thread(shapes.check, triples, classes, where)

    def _represent(
        self, target: Target, body: bytes, content_type: str | None, current: Resource | None,
        parsed: list[ox.Triple] | None = None,
    ) -> Resource:
        """Validate a new representation and turn it into what is stored. ``content_type``
        is the whole header: non-RDF resources keep its parameters (a charset, say)."""
        now = time.time()
        media_type = _bare(content_type)
        keep = current if current is not None and _is_dir(current) else Resource(CONTAINER, "", 0)
        if target.is_container:
            if body and not (media_type and rdf.is_rdf(media_type)):
                raise UnsupportedMediaType("a container's representation must be RDF")
            own = parsed if parsed is not None else (
                rdf.parse(body, media_type, self.url(target)) if body and media_type else [])
            _refuse_containment(own)
            stored = rdf.serialize(own, rdf.TURTLE) if own else b""
            return Resource(CONTAINER, rdf.TURTLE, now, stored, keep.count, keep.pages)
        if not media_type or content_type is None:
            raise BadRequest("a Content-Type header is required")
        if media_type in (rdf.TURTLE, rdf.JSON_LD) and parsed is None and not target.aux:
            rdf.check(body, media_type, self.url(target))  # kept as sent: same triples, same
            return Resource(RDF, media_type, now, body)     # base (its URL); a credential's
            # proof (a named graph in JSON-LD) and its exact bytes stay verifiable
        if rdf.is_rdf(media_type):
            own = parsed if parsed is not None else rdf.parse(body, media_type, self.url(target))
            stored = body if parsed is not None else rdf.serialize(own, rdf.TURTLE)
            return Resource(RDF, rdf.TURTLE, now, stored)
        if target.aux:
            raise UnsupportedMediaType(f"{target.aux} resources must be RDF")
        return Resource(BINARY, content_type.strip(), now, body)

    async def _check_new(self, tx: SealedTransaction, target: Target) -> None:
        """A new resource needs no twin (``/x`` vs ``/x/``) and, if auxiliary, a subject."""
        if target.aux:
            if await tx.get(target.subject.path) is None:
                raise NotFound(f"there is no resource {target.subject.path} for this {target.aux}")
            return
        if await tx.get(target.twin) is not None:
            raise Conflict(f"{target.twin} exists; {target.path} cannot exist beside it")

    async def _store(
        self, tx: SealedTransaction, target: Target, res: Resource, current: Resource | None
    ) -> Resource:
        if current is None and not target.aux:
            await self._link(tx, target)
        res.version = await tx.put(target.path, res.encode())
        return res

    async def _link(self, tx: SealedTransaction, target: Target,
                    known: dict[str, Resource] | None = None) -> None:
        """Add ``target`` to its parent, creating missing intermediate containers; ``known``
        holds containers the caller has loaded in this transaction already."""
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

    async def _free_name(
        self, tx: SealedTransaction, target: Target, slug: str | None, container: bool
    ) -> str:
        base = _slug_segment(slug) if slug else ""
        name = base or secrets.token_hex(8)
        while True:
            if await tx.get(target.path + name) is None and \
                    await tx.get(target.path + name + "/") is None:
                return name + "/" if container else name
            name = f"{base}-{secrets.token_hex(3)}" if base else secrets.token_hex(8)


def _bare(content_type: str | None) -> str | None:
    """The media type of a ``Content-Type`` value, without parameters, lowercased."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def _is_dir(res: Resource | None) -> bool:
    return res is not None and res.kind == CONTAINER


def _refuse_containment(triples: Iterable[ox.Triple]) -> None:
    if any(t.predicate == CONTAINS for t in triples):
        raise Conflict("ldp:contains triples are managed by the server and cannot be written")


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
