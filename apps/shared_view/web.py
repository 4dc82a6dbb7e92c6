"""The app's web pages and endpoints (Starlette, jinja2 templates, no JavaScript):

- ``GET /`` the dashboard; ``POST /refresh`` refresh now
- ``GET /join``, ``POST /join`` name your WebID or server → sent to sign in there
- ``GET /join/callback`` back from the member's server: a member once the grant exists
- ``GET /you`` what the app holds about you; ``POST /leave`` leave the community
- ``POST /hooks/grants`` ``grant.revoked`` events from members' servers (verified)

Every form carries a CSRF token; bad input gets a readable HTML page with a 4xx status (the
webhook, for servers, answers RFC 9457 problem+json)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from apps.community_kit.site import Site, visitors
from apps.sdk import SdkError
from apps.shared_view.charts import bar_chart
from apps.shared_view.config import Config
from apps.shared_view.model import Member
from apps.shared_view.refresh import Report
from apps.shared_view.service import SharedView, running
from vocab.purposes import purpose

log = logging.getLogger("apps.shared_view")
MAX_FORM = 4096
WORDS = {"app": "Shared view", "home": "dashboard", "join": "Join"}


def _view(request: Request) -> SharedView:
    view: SharedView = request.app.state.service
    return view


async def _welcome(request: Request, member: Member) -> Response:
    view = _view(request)
    response = page(request, "message.html", title="Welcome",
                    message=f"You are a member of {view.settings.name}"
                            + (f", named as {member.name}." if member.name
                               else ", unnamed: your name is shown nowhere.")
                            + " Your contributions are counted from now on.",
                    link=("/you", "What the community holds about you"))
    with contextlib.suppress(SdkError):
        await view.refresh_member(member.webid)
    return response


SITE = Site(Path(__file__).parent / "templates", max_form=MAX_FORM, log=log,
            context=lambda request: {"community": _view(request).settings,
                                     "brand": _view(request).settings.name, "site": WORDS},
            start_from="join page", not_joined="Not joined", welcome=_welcome)
page, _form = SITE.page, SITE.form


def _servers(report: Report | None) -> list[tuple[str, dict[str, int]]]:
    """The last refresh by server: how many pods were read, unreachable, removed."""
    found: dict[str, dict[str, int]] = {}
    for status in report.pods if report else []:
        parts = urlsplit(status.pod)
        counts = found.setdefault(f"{parts.scheme}://{parts.netloc}/", {})
        counts[status.state] = counts.get(status.state, 0) + 1
    return sorted(found.items())


async def dashboard(request: Request) -> Response:
    view = _view(request)
    f, s = view.figures, view.settings
    charts = []
    if f is not None:
        charts = [bar_chart("Contributions by project", f.by_project, f.k),
                  bar_chart("Contributions by kind", f.by_kind, f.k),
                  bar_chart("Contributions by month", f.by_month, f.k)]
    named = sorted(m.name for m in view.members.values() if m.name)
    return page(request, "dashboard.html", figures=f, charts=charts, report=view.report,
                servers=_servers(view.report), named=named, member_count=len(view.members),
                held=len(view.cache), purpose=purpose(s.purpose), ledger=view.ledger,
                you=visitors(request).of(request.cookies))


async def refresh_now(request: Request) -> Response:
    await _form(request)
    await _view(request).refresh(on_demand=True)
    return RedirectResponse("/", status_code=303)


async def you(request: Request) -> Response:
    view = _view(request)
    webid = visitors(request).of(request.cookies)
    member = view.members.get(webid) if webid else None
    status = next((p for p in (view.report.pods if view.report else [])
                   if member is not None and p.pod == member.pod), None)
    return page(request, "you.html", webid=webid, member=member, pod_status=status,
                facts=view.cache.of(webid) if webid else None)


async def leave(request: Request) -> Response:
    await _form(request)
    view, signed_in = _view(request), visitors(request)
    webid = signed_in.of(request.cookies)
    if webid is None:
        return page(request, "message.html", 403, title="Not signed in",
                    message="Join (sign in) from this browser first, or withdraw the "
                            "community's access on your own pod.")
    await view.membership.leave(webid)
    await view.forget(webid)
    signed_in.forget(webid)
    response = page(request, "message.html", title="You left",
                    message=f"You are no member of {view.settings.name} any more and it "
                            "holds nothing about you. To end its access to your pod at once "
                            "too, withdraw the grant on your pod's account page.")
    response.delete_cookie(signed_in.cookie, path="/")
    return response


def create_app(config: Config) -> Starlette:
    """The ASGI app for ``config``; it signs in and sets up the community as it starts."""
    routes: list[BaseRoute] = [
        Route("/", dashboard, methods=["GET"]),
        Route("/refresh", refresh_now, methods=["POST"]),
        Route("/you", you, methods=["GET"]),
        Route("/leave", leave, methods=["POST"]),
    ]
    return SITE.create_app(routes, lambda: running(config))
