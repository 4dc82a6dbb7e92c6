"""Server paths under ``/.well-known/``, the start page and the site icon."""

from __future__ import annotations

from functools import cache
from importlib import resources

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from pod.deps import SettingsDep, TemplatesDep
from pod.http.notifications import FEATURES, service_url
from pod.negotiation import choose
from pod.notifications.channels import CHANNEL_TYPES
from pod.resources import rdf
from vocab.namespaces import NOTIFY, RDF, SOLID, node_of

router = APIRouter()
FAVICON = "/favicon.ico"
"""The one server path outside ``/.``: browsers ask for it by this name (``pod.app.Router``
sends it here, not to the LDP edge; no pod can be named so)."""
RDF_TYPE = node_of(RDF.type)
STORAGE_DESCRIPTION = node_of(SOLID.StorageDescription)
SUBSCRIPTION, CHANNEL_TYPE = node_of(NOTIFY.subscription), node_of(NOTIFY.channelType)
FEATURE = node_of(NOTIFY.feature)
_FEATURES = [node_of(NOTIFY[name]) for name in FEATURES]


@router.api_route("/.well-known/solid", methods=["GET", "HEAD"], include_in_schema=False)
async def storage_description(request: Request, settings: SettingsDep) -> Response:
    """The storage description resource (Solid Protocol §4.1.2), naming the notification
    subscription services (Solid Notifications Protocol §6): Turtle, or JSON-LD on request."""
    kind = choose(request.headers.get("accept"), rdf.RDF_TYPES)
    body = rdf.serialize(_description(settings.base_url), kind)
    return Response(body if request.method == "GET" else b"", media_type=kind,
                    headers={"Access-Control-Allow-Origin": "*", "Vary": "Accept",
                             "Content-Length": str(len(body))})


def _description(base: str) -> list[ox.Triple]:
    me = ox.NamedNode(f"{base}.well-known/solid")
    out = [ox.Triple(me, RDF_TYPE, STORAGE_DESCRIPTION)]
    for kind in CHANNEL_TYPES:
        service = ox.NamedNode(service_url(base, kind))
        out += [ox.Triple(me, SUBSCRIPTION, service),
                ox.Triple(service, CHANNEL_TYPE, ox.NamedNode(CHANNEL_TYPES[kind]))]
        out += [ox.Triple(service, FEATURE, feature) for feature in _FEATURES]
    return out


@router.get("/", include_in_schema=False)
async def start_page(settings: SettingsDep, templates: TemplatesDep) -> HTMLResponse:
    """What this server is, and what to do next: sign up, use an app, script it; without
    TLS, how to open it to others."""
    base = settings.base_url
    page = templates.get_template("index.html").render(
        base_url=base, local=not base.startswith("https://"), signup=settings.signup)
    return HTMLResponse(page)


@cache
def _icon() -> bytes:
    return resources.files("pod.http").joinpath("favicon.ico").read_bytes()


@router.api_route(FAVICON, methods=["GET", "HEAD"], include_in_schema=False)
async def favicon() -> Response:
    """The site icon browsers fetch for every page (ICO, 16–48 px)."""
    return Response(_icon(), media_type="image/vnd.microsoft.icon",
                    headers={"Cache-Control": "public, max-age=86400"})
