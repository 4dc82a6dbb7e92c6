"""``/.vocab/ns``: the Commonpod vocabulary — Turtle for machines, HTML for people, JSON-LD on
request. The terms' canonical namespace is ``https://commonpod.org/ns#``; every server serves the
same document so a client can read it without leaving the pod's server. ``/.vocab/shapes``: the
SHACL shapes writes into registered containers are checked against (Turtle)."""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from pod.deps import TemplatesDep
from pod.negotiation import choose
from vocab import terms

router = APIRouter()

TURTLE, JSON_LD, HTML = "text/turtle", "application/ld+json", "text/html"
OFFERS = (TURTLE, JSON_LD, HTML)  # Turtle wins ties, so */* and no Accept get Turtle


@router.get("/.vocab/ns", include_in_schema=False)
async def vocabulary(request: Request, templates: TemplatesDep) -> Response:
    kind = choose(request.headers.get("accept"), OFFERS)
    headers = {"Vary": "Accept", "Access-Control-Allow-Origin": "*",
               "Link": f'<{terms.ONTOLOGY}>; rel="canonical"'}
    if kind == TURTLE:
        return Response(terms.turtle(), media_type="text/turtle; charset=utf-8",
                        headers=headers)
    if kind == JSON_LD:
        body = ox.serialize(terms.triples(), format=ox.RdfFormat.JSON_LD)
        return Response(body, media_type=JSON_LD, headers=headers)
    all_terms = terms.terms()
    page = templates.get_template("vocabulary.html").render(
        namespace=terms.NAMESPACE, ontology=terms.ONTOLOGY,
        classes=[t for t in all_terms if t.kind == "class"],
        properties=[t for t in all_terms if t.kind == "property"],
        schemes=[t for t in all_terms if t.kind == "concept scheme"],
        concepts=[t for t in all_terms if t.kind == "concept"])
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/.vocab/shapes", include_in_schema=False)
async def shapes() -> Response:
    return Response(terms.SHAPES.read_bytes(), media_type="text/turtle; charset=utf-8",
                    headers={"Access-Control-Allow-Origin": "*"})
