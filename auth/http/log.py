"""The pod owner's access log: the page ``/.account/log`` and the API ``/.api/log``.

The page is for the signed-in owner (session cookie); it shows the apps' accesses first, apart
from everyone else's, and says how the log bounds what one agent adds. The API is for the
owner's own programs: a DPoP-bound token of the pod's owner WebID acting directly (not through
an app); everyone else gets 403 (401 without credentials). It answers JSON (default) or Turtle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from auth.http import web
from auth.http.deps import ConsentDep, NamesDep, PagesDep, SessionDep
from pod.access.agent import Agent
from pod.access.audit import APPS, OTHERS, AccessLog, AccessRecord
from pod.access.renderings import to_json, to_turtle
from pod.access.tally import ALLOWED_KEPT, REFUSALS_KEPT, RESOURCES_COUNTED, SAMPLES
from pod.deps import LogDep, PodsDep, SettingsDep, owner_acting
from pod.errors import BadRequest, NotFound
from pod.negotiation import choose
from pod.store.sealed import PodKeys

router = APIRouter()

LOG_PAGE = "/.account/log"
LOG_API = "/.api/log"
PAGE_SIZE = 50
MAX_SKIP = 10_000  # records at one millisecond a cursor may step over
PEOPLE_SCAN = 1000  # recent records read to offer the people seen as a filter
JSON, TURTLE = "application/json", "text/turtle"
PodOwner = Annotated[Agent, Depends(owner_acting(
    "only the pod's owner, acting directly, may read its access log"))]


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


def _kind(value: str | None) -> str | None:
    """``app`` (requests by apps), ``other`` (the rest) or nothing; raises ValueError."""
    if value and value not in (APPS, OTHERS):
        raise ValueError(f"kind must be {APPS!r} or {OTHERS!r}")
    return value or None


def _choose(accept: str | None) -> str:
    """JSON (the default) or Turtle, by the ``Accept`` header's q-values."""
    return choose(accept, (JSON, TURTLE))


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a page of the log starts: below the time ``ms`` (milliseconds), after ``skip``
    records at exactly that time shown already (``before=MS:SKIP`` in the page's query)."""

    ms: int
    skip: int = 0

    @classmethod
    def parse(cls, value: str | None) -> Cursor | None:
        """The cursor of a ``before`` parameter; raises ValueError when malformed."""
        if not value:
            return None
        ms, _, skip = value.partition(":")
        if not ms.isdigit() or not (skip or "0").isdigit() or len(value) > 40 \
                or int(skip or "0") > MAX_SKIP:
            raise ValueError("before must be a position in the log, as the page's links give")
        return cls(int(ms), int(skip or "0"))

    def __str__(self) -> str:
        return f"{self.ms}:{self.skip}"


def _ms(record: AccessRecord) -> int:
    return round(record.at * 1000)


def page_of(records: list[AccessRecord], cursor: Cursor | None, size: int
            ) -> tuple[list[AccessRecord], Cursor | None]:
    """One page of ``records`` (newest first) from ``cursor``, and the cursor of the next
    page, if there is one."""
    if cursor is not None:
        records = [r for r in records if _ms(r) <= cursor.ms]
        skip = cursor.skip
        while skip and records and _ms(records[0]) == cursor.ms:
            records, skip = records[1:], skip - 1
    shown = records[:size]
    if len(records) <= size or not shown:
        return shown, None
    last = _ms(shown[-1])
    same = sum(1 for r in shown if _ms(r) == last)
    if cursor is not None and last == cursor.ms:
        same += cursor.skip
    return shown, Cursor(last, same)


@router.get(LOG_PAGE, include_in_schema=False)
async def log_page(request: Request, session: SessionDep, pages: PagesDep, pods: PodsDep,
                   log: LogDep, names: NamesDep, consents: ConsentDep,
                   app: str | None = None, person: str | None = None,
                   kind: str | None = None, before: str | None = None,
                   since: str | None = Query(None, alias="from"),
                   until: str | None = Query(None, alias="to")) -> Response:
    """The owner's access log: apps first, then everyone else, each newest first and paged
    (:data:`PAGE_SIZE` a page), filtered by app, person, kind and dates."""
    if session is None:
        return web.no_session(request)
    account = session.account
    keys = await pages.pod_of(pods, session)
    if isinstance(keys, Response):
        return keys
    filters = {"app": app or "", "person": person or "", "kind": kind or "",
               "from": since or "", "to": until or ""}
    rule = {"refusals": REFUSALS_KEPT, "allowed": ALLOWED_KEPT, "samples": SAMPLES,
            "resources": RESOURCES_COUNTED, "count_seconds": round(log.count_interval)}
    context: dict[str, Any] = {"filters": filters, "rule": rule, "size": PAGE_SIZE}
    try:
        start, end = _span(since, until)
        kinds = [_kind(kind)] if kind else [APPS] if app else [APPS, OTHERS]
        cursor = Cursor.parse(before) if kind else None
    except ValueError as exc:
        return await pages.session_page(session, "account/log.html", 400,
                                        error=web.sentence(str(exc)), sections=[], apps=[],
                                        people=[], names={}, **context)
    if cursor is not None:
        cut = (cursor.ms + 1) / 1000
        end = cut if end is None else min(end, cut)
    sections = [await _section(log, keys, k, filters, start, end, cursor) for k in kinds]
    seen = await log.query(keys, since=start, until=end, limit=PEOPLE_SCAN)
    apps = await log.apps(keys)
    everyone = sorted({r.agent for r in seen if r.agent} | ({person} if person else set()))
    records = [r for s in sections for r in s["records"]]
    app_names = await names.apps([*apps, *(r["app"] for r in records), app],
                                 await consents.grants(account.name))
    people = await names.people([*everyone, *(r["agent"] for r in records)])
    query = urlencode({"pod": account.name, **{k: v for k, v in filters.items()
                                               if v and k != "person"},
                       **({"agent": person} if person else {})})
    return await pages.session_page(
        session, "account/log.html", sections=sections, apps=apps, people=everyone,
        names={**people, **app_names}, api_url=f"{LOG_API}?{query}",
        first_page=_query(filters) if cursor else None, **context)


async def _section(log: AccessLog, keys: PodKeys, kind: str | None, filters: dict[str, str],
                   start: float | None, end: float | None, cursor: Cursor | None
                   ) -> dict[str, Any]:
    """One part of the page (apps, or everyone else): a page of its records and the link to
    the next."""
    skip = cursor.skip if cursor else 0
    found = await log.query(keys, app=filters["app"] or None, agent=filters["person"] or None,
                            kind=kind, since=start, until=end, limit=skip + PAGE_SIZE + 101)
    shown, more = page_of(found, cursor, PAGE_SIZE)
    return {"kind": kind, "records": [r.to_json() for r in shown],
            "more": _query({**filters, "kind": kind or "", "before": str(more)})
            if more else None}


def _query(params: dict[str, str]) -> str:
    """A link to the log page with ``params`` (empty ones left out)."""
    return LOG_PAGE + "?" + urlencode({k: v for k, v in params.items() if v})


@router.get(LOG_API)
async def log_api(request: Request, pod: str, owner: PodOwner, settings: SettingsDep,
                  pods: PodsDep, log: LogDep, app: str | None = None,
                  agent: str | None = None, kind: str | None = None,
                  since: str | None = Query(None, alias="from"),
                  until: str | None = Query(None, alias="to"),
                  limit: int = Query(1000, ge=1, le=10000)) -> Response:
    """The access log of ``pod`` for its owner, newest first (JSON or Turtle)."""
    base = settings.base_url
    keys = await pods.find(pod)
    if keys is None:
        raise NotFound(f"there is no pod named {pod!r} on this server")
    media = _choose(request.headers.get("accept"))
    try:
        start, end = _span(since, until)
        wanted = _kind(kind)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    records = await log.query(keys, app=app or None, agent=agent or None, kind=wanted,
                                 since=start, until=end, limit=limit)
    log_url = base + LOG_API[1:] + "?" + urlencode({"pod": pod})
    headers = {"Cache-Control": "no-store", "Vary": "Accept, Authorization"}
    if media == TURTLE:
        return Response(to_turtle(records, log_url), media_type=TURTLE, headers=headers)
    body = json.dumps(to_json(records, log_url), separators=(",", ":")).encode()
    return Response(body, media_type=JSON, headers=headers)
