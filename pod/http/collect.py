"""``GET /.api/collect?pod=NAME&class=IRI``: every resource of a class in a pod, in one answer.

Only authenticated agents may ask (401 otherwise), and a class the owner has not registered is
answered like one the caller may not read (403), so the type index stays private. The pod
owner's type index says which containers hold the class; the answer merges the triples
of each document in them (at any depth) that the caller may read — WAC and, for apps, the
owner's grants, decided per document exactly as a GET would — and states which documents it
includes (``ldp:contains`` from their container). A community app aggregating its members'
contributions makes one request per member, not one per contribution. The access log gets one
record for the whole read, naming the class.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from pod.access.agent import Agent
from pod.access.audit import AccessRecord
from pod.access.modes import Mode
from pod.errors import NotFound, PodError
from pod.negotiation import choose
from pod.resources import membership, rdf
from pod.resources.paths import Target
from pod.resources.records import CONTAINER, RDF
from pod.resources.service import load
from pod.store.sealed import PodKeys, SealedReader
from vocab.prefixes import expand

if TYPE_CHECKING:
    from pod.runtime import Runtime

router = APIRouter()
PATH = "/.api/collect"
MAX_DOCUMENTS = 10_000
CONTAINS = ox.NamedNode("http://www.w3.org/ns/ldp#contains")


async def _documents(reader: SealedReader, path: str, found: list[str]) -> None:
    """Paths of the RDF documents at or below container ``path``."""
    res = await load(reader, path)
    if res is None or res.kind != CONTAINER:
        return
    for name in await membership.members(reader, path, res):
        if len(found) >= MAX_DOCUMENTS:
            return
        if name.endswith("/"):
            await _documents(reader, path + name, found)
        else:
            found.append(path + name)


async def _collect(rt: Runtime, keys: PodKeys, pod: str, containers: list[str], agent: Agent,
                   used: list[str]) -> tuple[list[ox.Triple], int]:
    """The readable documents' triples, and how many documents there were in all."""
    out: list[ox.Triple] = []
    total = 0
    async with rt.resources.store.read(keys) as reader:
        for container in containers:
            paths: list[str] = []
            await _documents(reader, container, paths)
            total += len(paths)
            for path in paths:
                target = Target(pod, path)
                [modes] = await rt.access.modes(reader, keys, target, (agent,), used)
                res = await load(reader, path) if Mode.READ in modes else None
                if res is None or res.kind != RDF:
                    continue
                parent = ox.NamedNode(rt.resources.url(target, target.parent))
                out.append(ox.Triple(parent, CONTAINS, ox.NamedNode(rt.resources.url(target))))
                out.extend(rt.resources.triples(keys.pod_id, target, res, []))
    return out, total


@router.get(PATH)
async def collect(request: Request, pod: str,
                  cls: str = Query(..., alias="class", min_length=1, max_length=2000)
                  ) -> Response:
    """Every readable resource of class ``cls`` in ``pod``, as one RDF document."""
    rt: Runtime = request.app.state.runtime
    agent = await request.app.state.identity.authenticator.agent(
        "GET", rt.settings.base_url + PATH[1:], dict(request.headers))
    if not agent.authenticated:
        rt.access.deny(agent, Mode.READ, f"{rt.settings.base_url}{pod}/")
    keys = await rt.pods.find(pod)
    if keys is None:
        raise NotFound(f"there is no pod named {pod!r} on this server")
    iri = expand(cls)
    kind = choose(request.headers.get("accept"), rdf.RDF_TYPES)
    base = rt.resources.url(Target(pod, "/"))
    containers = [u[len(base) - 1:] for u in await rt.resources.registered(keys, pod, iri)]
    owner = agent.app is None and agent.webid == rt.access.owner(pod)
    used: list[str] = []
    status = 200
    try:
        if not containers and owner:
            raise NotFound(f"you have registered no container for {iri}")
        if not containers:  # the same answer as no access: the type index stays private
            rt.access.deny(agent, Mode.READ, f"the {iri} resources of {base}")
        triples, total = await _collect(rt, keys, pod, containers, agent, used)
        if not triples and total:
            rt.access.deny(agent, Mode.READ, f"the {iri} resources of {base}")
    except PodError as exc:
        status = exc.status
        raise
    finally:
        if not owner:
            rt.log.record(keys, AccessRecord(time.time(), agent.webid, agent.app, iri, "read",
                                             "GET", status, used[0] if used else None))
    return Response(rdf.serialize(triples, kind), media_type=kind,
                    headers={"Vary": "Accept, Authorization"})
