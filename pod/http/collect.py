"""``GET /.api/collect?pod=NAME&class=IRI``: every resource of a class in a pod, in one answer.

Only authenticated agents may ask (401 otherwise). A caller who may read nothing of the class
gets 403 whether its containers hold documents or not, and a class the owner has not
registered is answered the same way, so neither the type index nor its emptiness leaks. The pod
owner's type index says which containers hold the class; the answer merges the triples
of each document in them (at any depth) that the caller may read — WAC and, for apps, the
owner's grants, decided per document exactly as a GET would (by the read service that
answers GET, ``pod.access.reading``) — and states which documents it includes
(``ldp:contains`` from their container). A community app aggregating its members'
contributions makes one request per member, not one per contribution. The access log gets one
record for the whole read, naming the class.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from pod.access.modes import Mode
from pod.deps import AgentDep, service
from pod.errors import NotFound, PodError
from pod.negotiation import choose
from pod.resources import rdf
from pod.services import PodServices
from vocab.prefixes import expand

router = APIRouter()
PATH = "/.api/collect"


@router.get(PATH)
async def collect(request: Request, pod: str,
                  rt: Annotated[PodServices, Depends(service(PodServices))], agent: AgentDep,
                  cls: str = Query(..., alias="class", min_length=1, max_length=2000)
                  ) -> Response:
    """Every readable resource of class ``cls`` in ``pod``, as one RDF document."""
    if not agent.authenticated:
        rt.access.deny(agent, Mode.READ, f"{rt.settings.base_url}{pod}/")
    keys = await rt.pods.find(pod)
    if keys is None:
        raise NotFound(f"there is no pod named {pod!r} on this server")
    iri = expand(cls)
    kind = choose(request.headers.get("accept"), rdf.RDF_TYPES)
    status, grant = 200, None
    try:
        found = await rt.reads.collect(keys, pod, iri, agent)
        grant = found.decision.grant
        found.decision.require()
    except PodError as exc:
        status = exc.status
        raise
    finally:
        rt.log.record_request(keys, rt.access.owner(pod), agent, iri, "read", "GET", status,
                              grant)
    return Response(rdf.serialize(found.triples, kind), media_type=kind,
                    headers={"Vary": "Accept, Authorization"})
