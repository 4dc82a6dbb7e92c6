"""The reputation app's pages (Starlette, jinja2 templates, no JavaScript):

- ``GET /`` the overview (the scores members chose to show); ``POST /run`` compute now
  (members only: each run appends a statement to every member's pod)
- ``GET /join``, ``POST /join``, ``GET /join/callback`` sign in on your own server (as the
  shared view's join does: you are a member once your grant exists)
- ``GET /why`` your own score and every input behind it; ``GET /why?member=WEBID`` another
  member's, only if they agreed to show it; ``POST /why/show`` choose (default: nobody)
- ``GET /rules`` the rules in force, every version, the proposals with their diffs;
  ``GET /rules/v/N`` one version; ``POST /rules/propose``;
  ``POST /rules/proposals/ID/approve`` (signed-in members only)
- ``POST /hooks/grants`` ``grant.revoked`` events from members' servers (verified)

Every form carries a CSRF token; bad input gets a readable page with a 4xx status."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from apps.community_kit.site import Site, visitors
from apps.reputation.config import Config
from apps.reputation.service import Reputation, running
from apps.rules import document
from apps.rules.store import ProposalError
from apps.sdk import NotFound
from apps.shared_view.model import Member

log = logging.getLogger("apps.reputation")
MAX_FORM = 64_000  # a rules document fits
WORDS = {"app": "Reputation", "home": "overview", "join": "Sign in"}


def _service(request: Request) -> Reputation:
    found: Reputation = request.app.state.service
    return found


async def _welcome(request: Request, member: Member) -> Response:
    service = _service(request)
    service.members[member.webid] = member
    return page(request, "message.html", title="Signed in",
                message=f"You are a member of {service.config.name}'s reputation. Your "
                        "contributions count from the next run.",
                link=("/why", "Your score and why"))


SITE = Site(Path(__file__).parent / "templates", max_form=MAX_FORM, log=log,
            context=lambda request: {"name": _service(request).config.name,
                                     "brand": _service(request).config.name,
                                     "site": WORDS},
            start_from="sign-in page", not_joined="Not signed in", welcome=_welcome,
            cookies="rep")
page, _form = SITE.page, SITE.form


def _you(request: Request) -> str | None:
    """The signed-in member's WebID (``None``: not signed in, or no member any more)."""
    webid = visitors(request).of(request.cookies)
    return webid if webid is not None and webid in _service(request).members else None


def _members_only(request: Request, message: str) -> Response:
    """403: what a visitor not signed in as a member may not do."""
    return page(request, "message.html", 403, title="Members only", message=message,
                link=("/join", "Sign in"))


def _label(service: Reputation, webid: str) -> str:
    member = service.members.get(webid)
    return member.name if member is not None and member.name else "a member"


async def overview(request: Request) -> Response:
    service = _service(request)
    rules = await service.rules.in_force()
    run = service.last
    shown = []
    if run is not None:
        shown = sorted(((w, _label(service, w), s.score) for w, s in run.result.scores.items()
                        if w in service.shown and w in service.members),
                       key=lambda row: -row[2])
    return page(request, "overview.html", rules=rules, run=run, shown=shown,
                member_count=len(service.members), you=_you(request))


async def run_now(request: Request) -> Response:
    await _form(request)
    if _you(request) is None:  # each run appends a statement to every member's pod
        return _members_only(request, "Sign in as a member to compute the scores now.")
    await _service(request).run()
    return RedirectResponse("/", status_code=303)


async def why(request: Request) -> Response:
    service, you = _service(request), _you(request)
    asked = request.query_params.get("member") or you
    if asked is None:
        return page(request, "message.html", 401, title="Sign in first",
                    message="Sign in to see your own score and why.", link=("/join", "Sign in"))
    if asked != you and asked not in service.shown:
        return page(request, "message.html", 403, title="Not shown",
                    message="This member did not agree to show their score.")
    run = service.last
    score = run.result.scores.get(asked) if run is not None else None
    if run is None or score is None:
        return page(request, "message.html", 404, title="No score yet",
                    message="No score has been computed for this member yet.")
    sources = {item.source: ("the community" if item.source == service.config.community
                             else _label(service, item.source)) for item in score.items}
    return page(request, "why.html", label="You" if asked == you else _label(service, asked),
                score=score, rules=run.result.rules, at=run.at, sources=sources,
                statement=run.issued.get(asked), own=asked == you, shown=asked in service.shown)


async def show(request: Request) -> Response:
    fields = await _form(request)
    you = _you(request)
    if you is None:
        return _members_only(request, "Sign in to choose who sees your score.")
    await _service(request).show(you, fields.get("show") == "yes")
    return RedirectResponse("/why", status_code=303)


async def _rules_page(request: Request, status: int = 200, **extra: Any) -> Response:
    service = _service(request)
    store = service.rules
    rules = await store.in_force()
    proposals = await store.proposals()
    diffs = {}
    for p in proposals:
        base = rules if p.base == rules.version else await store.version(p.base)
        diffs[p.id] = document.diff(base, p.rules)
    labels = {w: _label(service, w) for w in service.members}
    context = {"text": document.turtle(rules), **extra}
    return page(request, "rules.html", status, rules=rules, versions=await store.versions(),
                lines=document.lines(rules), proposals=proposals, diffs=diffs, labels=labels,
                you=_you(request), **context)


async def rules_page(request: Request) -> Response:
    return await _rules_page(request)


async def version_page(request: Request) -> Response:
    try:
        n = int(request.path_params["n"])
        rules = await _service(request).rules.version(n)
    except (ValueError, NotFound):
        return page(request, "message.html", 404, title="No such version",
                    message="There is no such version of the rules.")
    if "text/turtle" in request.headers.get("accept", ""):
        return Response(document.turtle(rules), media_type="text/turtle")
    return page(request, "version.html", rules=rules, lines=document.lines(rules),
                text=document.turtle(rules))


async def propose(request: Request) -> Response:
    fields = await _form(request)
    you = _you(request)
    if you is None:
        return _members_only(request, "Sign in as a member to propose a change.")
    text, reason = fields.get("rules", ""), fields.get("reason", "")
    try:
        made = await _service(request).rules.propose(you, text, reason)
    except ValueError as exc:  # RulesError, ProposalError
        return await _rules_page(request, 400, error=str(exc), text=text, reason=reason)
    return RedirectResponse(f"/rules#proposal-{made.id}", status_code=303)


async def approve(request: Request) -> Response:
    await _form(request)
    you = _you(request)
    if you is None:
        return _members_only(request, "Sign in as a member to approve a change.")
    proposal_id = request.path_params["id"]
    try:
        done = await _service(request).rules.approve(proposal_id, you)
    except ProposalError as exc:
        return await _rules_page(request, 409 if "no such" not in str(exc) else 404,
                                 error=str(exc))
    return RedirectResponse(f"/rules#proposal-{done.id}", status_code=303)


def create_app(config: Config) -> Starlette:
    """The ASGI app for ``config``; it signs in and sets up the community as it starts."""
    routes: list[BaseRoute] = [
        Route("/", overview, methods=["GET"]),
        Route("/run", run_now, methods=["POST"]),
        Route("/why", why, methods=["GET"]),
        Route("/why/show", show, methods=["POST"]),
        Route("/rules", rules_page, methods=["GET"]),
        Route("/rules/v/{n}", version_page, methods=["GET"]),
        Route("/rules/propose", propose, methods=["POST"]),
        Route("/rules/proposals/{id}/approve", approve, methods=["POST"]),
    ]
    return SITE.create_app(routes, lambda: running(config))
