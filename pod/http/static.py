"""The pages' static files (``/.static/NAME``): the one stylesheet and a small script.

They ship in the ``templates`` package (``templates/static/``). Pages link them as
:func:`asset_url` gives — the path with a digest of the content — so they can be cached for
a year and a new version is still fetched at once.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pod.errors import NotFound

router = APIRouter()
PREFIX = "/.static/"
ASSETS = {"commonpod.css": "text/css; charset=utf-8",
          "commonpod.js": "text/javascript; charset=utf-8"}
"""Every file served, with its media type: nothing else under ``templates/static/``."""


@cache
def _read(name: str) -> tuple[bytes, str]:
    body = resources.files("templates").joinpath("static", name).read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:16]


def asset_url(name: str) -> str:
    """The URL a page links ``name`` by (its digest in the query, for caching)."""
    return f"{PREFIX}{name}?v={_read(name)[1]}"


@router.api_route(PREFIX + "{name}", methods=["GET", "HEAD"], include_in_schema=False)
async def asset(name: str, request: Request) -> Response:
    """A static file of the pages, cacheable (``ETag``; a year, the URL changing with it)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound("no such file")
    body, digest = _read(name)
    etag = f'"{digest}"'
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": etag,
               "X-Content-Type-Options": "nosniff"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
