"""The pod owner's access log: the page ``/.account/log`` and the API ``/.api/log``.

The page is for the signed-in owner (session cookie). The API is for the owner's own programs:
a DPoP-bound token of the pod's owner WebID acting directly (not through an app); everyone
else gets 403 (401 without credentials). It answers JSON (default) or Turtle.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from auth.routes import web
from auth.sessions import current_session
from pod.access.audit import to_json, to_turtle
from pod.errors import BadRequest, NotFound
from pod.negotiation import choose

if TYPE_CHECKING:
    from pod.runtime import Runtime

router = APIRouter()

LOG_PAGE = "/.account/log"
LOG_API = "/.api/log"
PAGE_LIMIT = 500
JSON, TURTLE = "application/json", "text/turtle"


def _date(value: str | None, name: str) -> float | None:
    """Midnight UTC of a ``YYYY-MM-DD`` date, as unix time; raises ValueError when invalid."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        raise ValueError(f"{name} must be a date written YYYY-MM-DD") from None


def _span(since: str | None, until: str | None) -> tuple[float | None, float | None]:
    """``from`` (inclusive) and ``to`` (the whole day, inclusive) as a time span."""
    start, end = _date(since, "from"), _date(until, "to")
    return start, end + 86400 if end is not None else None


def _choose(accept: str | None) -> str:
    """JSON (the default) or Turtle, by the ``Accept`` header's q-values."""
    return choose(accept, (JSON, TURTLE))


@router.get(LOG_PAGE, include_in_schema=False)
async def log_page(request: Request, app: str | None = None,
                   since: str | None = Query(None, alias="from"),
                   until: str | None = Query(None, alias="to")) -> Response:
    session = await current_session(request)
    if session is None:
        return web.no_session(request)
    rt: Runtime = request.app.state.runtime
    account = session.account
    keys = await rt.pods.find(account.name)
    if keys is None:
        return web.problem_page(request, 404, "No pod", "This account has no pod any more.")
    filters = {"app": app or "", "from": since or "", "to": until or ""}
    try:
        start, end = _span(since, until)
    except ValueError as exc:
        return await web.session_page(request, session, "account/log.html", 400,
                                      error=web.sentence(str(exc)), records=[], apps=[],
                                      filters=filters, limit=PAGE_LIMIT)
    records = await rt.log.query(keys, app=app or None, since=start, until=end,
                                 limit=PAGE_LIMIT)
    query = urlencode({"pod": account.name, **{k: v for k, v in filters.items() if v}})
    return await web.session_page(
        request, session, "account/log.html", records=[r.to_json() for r in records],
        apps=await rt.log.apps(keys), filters=filters, limit=PAGE_LIMIT,
        api_url=f"{LOG_API}?{query}")


@router.get(LOG_API)
async def log_api(request: Request, pod: str, app: str | None = None,
                  agent: str | None = None,
                  since: str | None = Query(None, alias="from"),
                  until: str | None = Query(None, alias="to"),
                  limit: int = Query(1000, ge=1, le=10000)) -> Response:
    """The access log of ``pod`` for its owner, newest first (JSON or Turtle)."""
    rt: Runtime = request.app.state.runtime
    base = rt.settings.base_url
    await web.owner_only(request, pod,
                         "only the pod's owner, acting directly, may read its access log")
    keys = await rt.pods.find(pod)
    if keys is None:
        raise NotFound(f"there is no pod named {pod!r} on this server")
    kind = _choose(request.headers.get("accept"))
    try:
        start, end = _span(since, until)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    records = await rt.log.query(keys, app=app or None, agent=agent or None, since=start,
                                 until=end, limit=limit)
    log_url = base + LOG_API[1:] + "?" + urlencode({"pod": pod})
    headers = {"Cache-Control": "no-store", "Vary": "Accept, Authorization"}
    if kind == TURTLE:
        return Response(to_turtle(records, log_url), media_type=TURTLE, headers=headers)
    body = json.dumps(to_json(records, log_url), separators=(",", ":")).encode()
    return Response(body, media_type=JSON, headers=headers)
