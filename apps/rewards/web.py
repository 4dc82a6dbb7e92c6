"""The app's one page (Starlette, a jinja2 template, no JavaScript, no forms): ``GET /`` lists
the badges issued and revoked, from the ledger in the community's pod. Issuance runs on a
schedule while the app is up; revocation is a command (``commonpod-app rewards revoke``), for
whoever holds the community's credential."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from apps.community_kit.schedule import repeating
from apps.rewards import issue, statuslist
from apps.rewards.service import Setup, signed_in
from apps.rules.store import RulesStore

log = logging.getLogger("apps.rewards")
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


async def badges(request: Request) -> Response:
    state = request.app.state
    issuer: issue.Issuer = state.issuer
    ledger, _ = await issuer.ledger.read()
    members = await state.pod.members()
    entries = []
    for cid, entry in sorted(ledger.entries.items(), key=lambda kv: (kv[1].issued_at, kv[0])):
        named = members.get(entry.member)
        holder = named.name if named is not None and named.name else "a member"
        entries.append((cid, entry, holder))
    response = TEMPLATES.TemplateResponse(
        request, "badges.html", {"name": issuer.name, "issuer": issuer.webid,
                                 "status_list": statuslist.list_url(issuer.pod),
                                 "entries": entries, "report": state.report})
    response.headers["Cache-Control"] = "no-store"
    return response


async def issue_now(app: Starlette) -> None:
    """One issuance run; its report is kept for the page."""
    state = app.state
    rules = await RulesStore(state.issuer.client, state.issuer.pod).in_force()
    state.report = await issue.run(state.issuer, rules, await state.pod.members())
    log.info("issuance: %d delivered, %d pending", len(state.report.delivered),
             len(state.report.pending))


def create_app(setup: Setup, issue_every_seconds: float) -> Starlette:
    """The ASGI app: signs in as the community as it starts and issues on schedule."""
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with signed_in(setup) as (issuer, pod):
            app.state.issuer, app.state.pod, app.state.report = issuer, pod, None
            async with repeating(lambda: issue_now(app), issue_every_seconds, at_once=True,
                                 log=log, failed="issuance failed"):
                yield

    return Starlette(routes=[Route("/", badges, methods=["GET"])], lifespan=lifespan)
