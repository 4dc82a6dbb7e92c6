"""``create_app(settings)``: the one function that wires the server together.

Nothing is built at import time. Requests for pod resources (``/{pod}/…``) go straight to the
LDP endpoint; server paths (``/``, ``/.well-known/…`` and everything else under ``/.``) go to
the FastAPI application, which also runs the lifespan that opens the store and builds every
service once, each given what it uses: the LDP endpoint gets its own at construction, the
FastAPI handlers theirs as typed dependencies (:mod:`pod.deps`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.accounts import Accounts
from auth.consent import Consent
from auth.contributions import Contributions
from auth.deletion import AccountDeletion
from auth.devices import Devices
from auth.fetch import Fetcher
from auth.http import oidc as oidc_routes
from auth.http import routes as account_pages
from auth.http.browse import PodView, is_page_request
from auth.http.cookies import Cookies
from auth.http.csrf import Csrf
from auth.http.web import Pages
from auth.identity import Identity
from auth.invites import Invites
from auth.naming import Names
from auth.notify import Notifier
from auth.oidc.clients import Clients
from auth.passwords import Passwords
from auth.people import People
from auth.profiles import Profiles
from auth.ratelimit import SignInLimits
from auth.received import Received
from auth.sessions import Sessions
from auth.webhooks import Webhooks
from pod import display
from pod.access.browsing import PodBrowsing
from pod.access.portability import Portability
from pod.access.sharing import Sharing
from pod.deps import Services, install
from pod.errors import BadRequest, PodError, error_for_status
from pod.gc_tuning import settle_after_start_up
from pod.http import collect, notifications, problems, static, vocabulary, wellknown
from pod.http.headers import cors
from pod.http.ldp import LdpEndpoint
from pod.notifications.hub import Notifications
from pod.resources.rdfa import Rdfa
from pod.runtime import Runtime, open_runtime
from pod.services import PodServices
from pod.settings import Settings


def templates() -> Environment:
    """The HTML pages: the ``templates`` package's files, wherever it is installed, with the
    filters that show values to a person (:mod:`pod.http.display`)."""
    env = display.install(Environment(loader=PackageLoader("templates", "."),
                                      autoescape=select_autoescape()))
    env.globals["asset_url"] = static.asset_url
    return env


class Router:
    """Sends pod paths to the LDP endpoint — or, when a browser asks for the page showing a
    pod resource (:func:`auth.http.browse.is_page_request`), to the pod browser's view — and
    everything else (server paths: ``/``, ``/.…`` and ``/favicon.ico``) to the FastAPI app."""

    def __init__(self, api: FastAPI):
        self.api = api
        self.ldp: ASGIApp | None = None
        self.view: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.ldp is not None:
            path = scope["path"]
            if len(path) > 1 and path[1] != "." and path != wellknown.FAVICON:
                await (self.view if self.view is not None and _page(scope) else self.ldp)(
                    scope, receive, send)
                return
        await self.api(scope, receive, send)


def _page(scope: Scope) -> bool:
    """Whether a request for a pod resource is a browser's asking for its page."""
    accept, authorization = None, False
    for name, value in scope["headers"]:
        if name == b"accept":
            accept = value.decode("latin-1")
        elif name in (b"authorization", b"dpop"):
            authorization = True
    return is_page_request(scope["method"], accept, authorization)


def services(settings: Settings, rt: Runtime, env: Environment, fetcher: Fetcher,
             identity: Identity, webhooks: Webhooks, live: Notifications) -> Services:
    """Every service the server paths' handlers use, each made once and given what it uses
    (:mod:`pod.deps` hands them to handlers by class)."""
    base, secure = settings.base_url, settings.secure_cookies
    consent = Consent(base, rt.pods, rt.resources, rt.access)
    sessions = Sessions(rt.system)
    csrf = Csrf(rt.system, secure=secure)
    cookies = Cookies(sessions, Devices(rt.system), secure=secure)
    sharing, people = Sharing(rt.access, rt.resources), People(rt.documents, fetcher)
    clients = Clients(rt.system, fetcher, rt.documents)
    browsing = PodBrowsing(rt.access, rt.reads, rt.resources, rt.log)
    return Services(
        settings, env, rt.system, rt.pods, rt.resources, rt.access, rt.log,
        PodServices(settings, rt.pods, rt.access, rt.reads, rt.resources, rt.patches, rt.log),
        identity, identity.authenticator, identity.credentials, webhooks,
        clients, consent,
        AccountDeletion(rt.system, rt.pods, rt.log, consent),
        Accounts(rt.system, rt.pods, rt.resources, Passwords()), Invites(rt.system),
        SignInLimits(rt.backend, rt.system.blind), sessions, cookies, csrf,
        Pages(env, base, csrf, cookies),
        rt.reads, sharing, people, browsing, Names(people, clients),
        Profiles(browsing, sharing), Contributions(browsing), Received(browsing, rt.statements),
        Notifier(base, rt.pods, rt.reads, rt.resources, rt.log, fetcher),
        Portability(base, rt.pods, rt.resources, rt.log, settings.max_body_bytes), live)


def create_app(settings: Settings) -> Router:
    """The ASGI application for ``settings`` (opening the store at start-up)."""
    env = templates()
    router: Router

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        fetcher = Fetcher(allow_private=settings.allow_private_fetch)  # all outbound fetches
        rt = await open_runtime(settings, fetcher=fetcher)
        identity = await Identity.open(rt.system, settings.base_url, fetcher, pods=rt.pods,
                                       mark=rt.backend.mark_once, events=rt.backend)
        webhooks = Webhooks(identity.keys, identity.issuer, fetcher)
        live = Notifications(settings.base_url, rt.backend, rt.system, rt.pods, rt.reads,
                             rt.access, rt.log, fetcher)
        await live.start()
        notifications.hide_secrets()  # socket URLs' secrets never reach the log
        rt.resources.on_change(live.changed)
        found = services(settings, rt, env, fetcher, identity, webhooks, live)
        install(app, found)
        router.ldp = LdpEndpoint(found.get(PodServices), env, identity.authenticator,
                                 Rdfa(rt.workers))
        router.view = PodView(found.get(PodServices), found.get(PodBrowsing),
                              found.get(Pages), found.get(Cookies), router.ldp)
        settle_after_start_up()  # rare full collections: no long pauses under load
        try:
            yield
        finally:
            router.ldp = router.view = None
            install(app, None)
            await live.close()
            await webhooks.close()
            await rt.close()

    api = FastAPI(title="Commonpod", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/.api/openapi.json")
    api.include_router(wellknown.router)
    api.include_router(static.router)  # /.static/…: the pages' stylesheet and script
    api.include_router(oidc_routes.router)  # discovery, JWKS, token endpoint
    api.include_router(account_pages.router)  # /.account/…
    api.include_router(vocabulary.router)  # /.vocab/ns, /.vocab/shapes
    api.include_router(collect.router)  # /.api/collect: a class's resources in one read
    api.include_router(notifications.router)  # /.notifications/…: Solid Notifications

    def answer(request: Request, error: PodError) -> Response:
        reply = problems.render(error, request.headers.get("accept"), env)
        reply.headers.update(cors(request.headers.get("origin")))
        return Response(reply.body, status_code=reply.status, headers=reply.headers)

    @api.exception_handler(PodError)
    async def pod_error(request: Request, exc: PodError) -> Response:
        return answer(request, exc)

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = "" if exc.status_code == 404 else str(exc.detail)
        return answer(request, error_for_status(exc.status_code, detail,
                                                dict(exc.headers or {})))

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return answer(request, BadRequest(str(exc.errors()[0].get("msg", "invalid request"))))

    router = Router(api)
    return router
