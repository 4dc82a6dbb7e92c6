"""From a request body to what is stored: check the media type and the syntax, and build the
record (Solid Protocol §5.3; LDP §5.2.3.4 for containers).

This runs before the write transaction starts, so a large or costly body never holds the
single writer. Turtle, N-Triples and plain JSON-LD are read by pyoxigraph (linear time; in a
thread when the body is large); JSON-LD naming bundled contexts goes through pyld, pure Python
whose cost the document drives, so it runs in a worker process under a time budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import pyoxigraph as ox

from pod.errors import BadRequest, Conflict, UnsupportedMediaType
from pod.resources import rdf
from pod.resources.checks import BUDGET, WHAT, WriteChecks, parse_and_check
from pod.resources.paths import Target
from pod.resources.records import BINARY, CONTAINER, RDF, Resource
from pod.resources.workers import Workers
from vocab.namespaces import LDP, node_of

INLINE_BYTES = 256 * 1024
"""Bodies up to this size are parsed on the event loop; larger ones in a thread."""
JSON_LD_BUDGET = 10.0
"""Seconds of work a JSON-LD document with bundled contexts may take to read."""
CONTAINS = node_of(LDP.contains)


def bare(content_type: str | None) -> str | None:
    """The media type of a ``Content-Type`` value, without parameters, lowercased."""
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


async def parse(workers: Workers, body: bytes, media_type: str, base: str) -> list[ox.Triple]:
    """Parse an untrusted RDF body off the event loop when it could take long."""
    if media_type == rdf.JSON_LD and b"@context" in body and b"http" in body:
        return await workers.run(rdf.parse, body, media_type, base, budget=JSON_LD_BUDGET,
                                 what="reading this JSON-LD document")
    if len(body) > INLINE_BYTES:
        return await asyncio.to_thread(rdf.parse, body, media_type, base)
    return rdf.parse(body, media_type, base)


async def prepare(workers: Workers, target: Target, url: str, body: bytes,
                  content_type: str | None, checks: WriteChecks | None = None
                  ) -> tuple[Resource, object | None]:
    """Validate an untrusted new representation of ``target`` (at ``url``) and build its
    record. ``content_type`` is the whole header: non-RDF resources keep its parameters (a
    charset, say). Containers get their member count and pages from the stored record
    (:func:`keep_members`). With ``checks`` (a checked container's), an RDF document is parsed
    and checked in one worker job, whose prepared proof check comes second (else ``None``)."""
    media_type = bare(content_type)
    if target.is_container:
        if body and not (media_type and rdf.is_rdf(media_type)):
            raise UnsupportedMediaType("a container's representation must be RDF")
        triples = await parse(workers, body, media_type, url) if body and media_type else []
        return represent_triples(target, triples), None
    if not media_type or content_type is None:
        raise BadRequest("a Content-Type header is required")
    own: list[ox.Triple] = []
    prepared: object | None = None
    if rdf.is_rdf(media_type) and not target.aux and checks is not None:
        own, prepared = await workers.run(parse_and_check, body, media_type, url, checks,
                                          budget=BUDGET, what=WHAT)
    elif rdf.is_rdf(media_type):
        own = await parse(workers, body, media_type, url)
    if media_type in (rdf.TURTLE, rdf.JSON_LD) and not target.aux:
        # kept as sent: same triples, same base (its URL); a credential's proof (a named graph
        # in JSON-LD) and its exact bytes stay verifiable
        return Resource(RDF, media_type, time.time(), body), prepared
    if rdf.is_rdf(media_type):
        return represent_triples(target, own), prepared
    if target.aux:
        raise UnsupportedMediaType(f"{target.aux} resources must be RDF")
    return Resource(BINARY, content_type.strip(), time.time(), body), None


def represent_triples(target: Target, triples: list[ox.Triple], turtle: bytes | None = None
                      ) -> Resource:
    """The record of an RDF resource or container holding ``triples`` (their Turtle:
    ``turtle`` when the caller has it, else serialised here)."""
    now = time.time()
    if target.is_container:
        refuse_containment(triples)
        stored = rdf.serialize(triples, rdf.TURTLE) if triples else b""
        return Resource(CONTAINER, rdf.TURTLE, now, stored)
    stored = turtle if turtle is not None else rdf.serialize(triples, rdf.TURTLE)
    return Resource(RDF, rdf.TURTLE, now, stored)


def keep_members(res: Resource, current: Resource | None) -> Resource:
    """A container's new record keeps the member count and pages of the stored one."""
    if res.kind == CONTAINER and current is not None and current.kind == CONTAINER:
        res.count, res.pages = current.count, current.pages
    return res


def refuse_containment(triples: Iterable[ox.Triple]) -> None:
    if any(t.predicate == CONTAINS for t in triples):
        raise Conflict("ldp:contains triples are managed by the server and cannot be written")
