"""Server paths under ``/.well-known/`` and the start page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

router = APIRouter()


@router.get("/.well-known/solid", include_in_schema=False)
async def storage_description(request: Request) -> Response:
    """The storage description resource (Solid Protocol §4.1.2)."""
    base = request.app.state.settings.base_url
    body = (f"@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            f"<{base}.well-known/solid> a solid:StorageDescription.\n")
    return Response(body, media_type="text/turtle",
                    headers={"Access-Control-Allow-Origin": "*"})


@router.get("/", include_in_schema=False)
async def start_page(request: Request) -> HTMLResponse:
    templates = request.app.state.templates
    page = templates.get_template("index.html").render(
        base_url=request.app.state.settings.base_url)
    return HTMLResponse(page)
