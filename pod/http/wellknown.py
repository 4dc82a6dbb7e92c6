"""Server paths under ``/.well-known/``, the start page and the site icon."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from pod.deps import SettingsDep, TemplatesDep
from vocab.namespaces import SOLID, namespace_of

router = APIRouter()
FAVICON = "/favicon.ico"
"""The one server path outside ``/.``: browsers ask for it by this name (``pod.app.Router``
sends it here, not to the LDP edge; no pod can be named so)."""
_SOLID_PREFIX = f"@prefix solid: <{namespace_of(SOLID)}>.\n"


@router.get("/.well-known/solid", include_in_schema=False)
async def storage_description(settings: SettingsDep) -> Response:
    """The storage description resource (Solid Protocol §4.1.2)."""
    base = settings.base_url
    body = f"{_SOLID_PREFIX}<{base}.well-known/solid> a solid:StorageDescription.\n"
    return Response(body, media_type="text/turtle",
                    headers={"Access-Control-Allow-Origin": "*"})


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
