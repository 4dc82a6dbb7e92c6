"""One community app's web plumbing, the same for every app (Starlette, jinja2, no JavaScript):

- templates from the app's own folder first, then the shared ones (``base.html``, ``join.html``,
  ``message.html``), every page with the visitor's CSRF token and ``Cache-Control: no-store``
- posted forms after their size and CSRF checks (413, 403)
- ``GET /join``, ``POST /join`` name your WebID or server → sent to sign in there;
  ``GET /join/callback`` back from the member's server: a member once the grant exists
- ``POST /hooks/grants`` ``grant.revoked`` events from members' servers (verified; RFC 9457
  problem+json for servers)
- the ASGI app: the app's service starts (signs in as the community) before the first request"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from apps.sdk import EventError, SdkError
from apps.shared_view import csrf
from apps.shared_view.addresses import AddressError
from apps.shared_view.membership import JoinError, Membership
from apps.shared_view.model import Member
from apps.shared_view.visitors import PREFIX, Visitors

SHARED_TEMPLATES = Path(__file__).parent / "templates"
MAX_EVENT = 16_384


class _Config(Protocol):
    @property
    def redirect_uri(self) -> str: ...


class Community(Protocol):
    """What the shared handlers need of an app's running service."""

    @property
    def config(self) -> _Config: ...

    @property
    def membership(self) -> Membership: ...

    async def forget(self, webid: str) -> None: ...


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """An RFC 9457 problem+json answer (for servers, not browsers)."""
    return JSONResponse({"type": "about:blank", "title": title, "status": status,
                         "detail": detail}, status_code=status,
                        media_type="application/problem+json")


def visitors(request: Request) -> Visitors:
    """The app's signed-in visitors."""
    found: Visitors = request.app.state.visitors
    return found


class Site:
    """One app's pages: ``folder`` its own templates, ``context`` what every page of it is given,
    ``max_form`` the largest form it takes; ``start_from`` and ``not_joined`` name its sign-in
    page and the title of a failed sign-in; ``welcome`` answers a member just signed in."""

    def __init__(self, folder: Path, *, context: Callable[[Request], dict[str, Any]],
                 max_form: int, start_from: str, not_joined: str,
                 welcome: Callable[[Request, Member], Awaitable[Response]],
                 log: logging.Logger, cookies: str = PREFIX) -> None:
        env = Environment(loader=ChoiceLoader([FileSystemLoader(folder),
                                               FileSystemLoader(SHARED_TEMPLATES)]),
                          autoescape=True)
        self.templates = Jinja2Templates(env=env)
        self.context, self.max_form, self.welcome, self.log = context, max_form, welcome, log
        self.start_from, self.not_joined = start_from, not_joined
        self.cookies = cookies  # the prefix of its cookies' names (apps.shared_view.visitors)

    @staticmethod
    def service(request: Request) -> Any:
        """The app's running service (its own type: the app casts it)."""
        return request.app.state.service

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        """A page from the templates, with the visitor's CSRF token."""
        token = csrf.token(request)
        response = self.templates.TemplateResponse(
            request, name, {"csrf": token, **self.context(request), "status_code": status,
                            **context}, status_code=status)
        csrf.remember(request, response, token)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def form(self, request: Request) -> dict[str, str]:
        """The posted form after its size and CSRF checks (413, 403 when they fail)."""
        if int(request.headers.get("content-length") or 0) > self.max_form:
            raise HTTPException(413, "That form is too large.")
        form = await request.form(max_part_size=self.max_form)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        if not csrf.valid(request, fields.get(csrf.FIELD)):
            raise HTTPException(403, "The form expired or came from another site. Go back, "
                                     "reload the page and try again.")
        return fields

    async def join_page(self, request: Request) -> Response:
        return self.page(request, "join.html")

    async def join(self, request: Request) -> Response:
        who = (await self.form(request)).get("who", "").strip()
        if not who or len(who) > 2000:
            return self.page(request, "join.html", 400, error="Give your WebID or your server's "
                                                              "address.", who=who[:2000])
        community: Community = self.service(request)
        try:
            flow = await community.membership.start(who)
        except (JoinError, AddressError) as exc:
            return self.page(request, "join.html", 400, error=str(exc), who=who)
        response = RedirectResponse(flow.url, status_code=303)
        response.set_cookie(visitors(request).flow_cookie, flow.state, httponly=True,
                            samesite="lax", max_age=600, secure=request.url.scheme == "https",
                            path="/join/")
        return response

    async def join_callback(self, request: Request) -> Response:
        community: Community = self.service(request)
        state = request.query_params.get("state", "")
        mine = request.cookies.get(visitors(request).flow_cookie, "")
        if not state or not secrets.compare_digest(state.encode(), mine.encode()):
            return self.page(request, "message.html", 400, title="Sign-in not recognised",
                             message="This sign-in was not started from this browser. Start "
                                     f"again from the {self.start_from}.")
        query = request.url.query
        callback = community.config.redirect_uri + ("?" + query if query else "")
        try:
            member = await community.membership.finish(state, callback)
        except JoinError as exc:
            return self.page(request, "message.html", 400, title=self.not_joined,
                             message=str(exc))
        response = await self.welcome(request, member)
        signed = visitors(request)
        response.delete_cookie(signed.flow_cookie, path="/join/")
        response.set_cookie(signed.cookie, signed.sign_in(member.webid), httponly=True,
                            samesite="lax", secure=request.url.scheme == "https", path="/")
        return response

    async def grant_hook(self, request: Request) -> Response:
        if int(request.headers.get("content-length") or 0) > MAX_EVENT:
            return problem(413, "Too large", "A grant event is a small JWT.")
        body = await request.body()
        if len(body) > MAX_EVENT:
            return problem(413, "Too large", "A grant event is a small JWT.")
        community: Community = self.service(request)
        try:
            event = await community.membership.on_event(body)
        except EventError as exc:
            return problem(400, "Not a valid grant event", str(exc))
        except SdkError as exc:
            return problem(502, "The issuer could not be asked", str(exc))
        await community.forget(event.owner)
        visitors(request).forget(event.owner)
        self.log.info("a member withdrew their grant; what was held of them is deleted")
        return Response(status_code=204)

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if request.url.path.startswith("/hooks/"):
            return problem(exc.status_code, "Refused", exc.detail)
        return self.page(request, "message.html", exc.status_code, title="That did not work",
                         message=exc.detail)

    def create_app(self, routes: list[BaseRoute],
                   running: Callable[[], AbstractAsyncContextManager[Any]]) -> Starlette:
        """The ASGI app: the app's own ``routes``, then sign-in and the grant webhook; the
        service ``running()`` yields starts (signs in, sets up the community) as it starts."""
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            async with running() as service:
                app.state.service = service
                app.state.visitors = Visitors(self.cookies)
                yield

        shared: list[BaseRoute] = [
            Route("/join", self.join_page, methods=["GET"]),
            Route("/join", self.join, methods=["POST"]),
            Route("/join/callback", self.join_callback, methods=["GET"]),
            Route("/hooks/grants", self.grant_hook, methods=["POST"]),
        ]
        return Starlette(routes=[*routes, *shared], lifespan=lifespan,
                         exception_handlers={HTTPException: self.http_error})
