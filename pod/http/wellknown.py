"""Server paths under ``/.well-known/``, the start page and the site icon."""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from pod.deps import SettingsDep, TemplatesDep
from pod.http.notifications import FEATURES, service_url
from pod.notifications.channels import CHANNEL_TYPES
from vocab.namespaces import NOTIFY, SOLID, namespace_of

router = APIRouter()
FAVICON = "/favicon.ico"
"""The one server path outside ``/.``: browsers ask for it by this name (``pod.app.Router``
sends it here, not to the LDP edge; no pod can be named so)."""
_SOLID_PREFIX = f"@prefix solid: <{namespace_of(SOLID)}>.\n"
_NOTIFY_PREFIX = f"@prefix notify: <{namespace_of(NOTIFY)}>.\n"


@router.get("/.well-known/solid", include_in_schema=False)
async def storage_description(settings: SettingsDep) -> Response:
    """The storage description resource (Solid Protocol §4.1.2), naming the notification
    subscription services (Solid Notifications Protocol §6)."""
    base = settings.base_url
    services = [service_url(base, kind) for kind in CHANNEL_TYPES]
    body = (f"{_SOLID_PREFIX}{_NOTIFY_PREFIX}<{base}.well-known/solid> a solid:StorageDescription;"
            f"\n  notify:subscription {', '.join(f'<{url}>' for url in services)}.\n")
    for url, kind in zip(services, CHANNEL_TYPES, strict=True):
        body += (f"<{url}> notify:channelType notify:{kind};\n"
                 f"  notify:feature {', '.join(f'notify:{f}' for f in FEATURES)}.\n")
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
