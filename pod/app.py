"""``create_app(settings)``: the one function that wires the server together.

Nothing is built at import time. Requests for pod resources (``/{pod}/…``) go straight to the
LDP endpoint; server paths (``/``, ``/.well-known/…`` and everything else under ``/.``) go to
the FastAPI application, which also runs the lifespan that opens the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from auth import routes as account_pages
from auth.fetch import Fetcher
from auth.groups import GroupMembership
from auth.identity import Identity
from auth.oidc import routes as oidc_routes
from auth.webhooks import Webhooks
from pod.errors import BadRequest, PodError, error_for_status
from pod.http import collect, problems, vocabulary, wellknown
from pod.http.headers import cors
from pod.http.ldp import LdpEndpoint
from pod.runtime import Runtime, open_runtime
from pod.settings import Settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())


class Router:
    """Sends pod paths to the LDP endpoint and everything else to the FastAPI app."""

    def __init__(self, api: FastAPI):
        self.api = api
        self.ldp: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.ldp is not None:
            path = scope["path"]
            if len(path) > 1 and path[1] != ".":
                await self.ldp(scope, receive, send)
                return
        await self.api(scope, receive, send)


def create_app(settings: Settings, runtime: Runtime | None = None) -> Router:
    """The ASGI application for ``settings`` (opening the store at start-up)."""
    env = templates()
    router: Router

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = runtime or await open_runtime(settings)
        fetcher = Fetcher(allow_private=settings.allow_private_fetch)  # all outbound fetches
        app.state.fetcher = fetcher
        identity = await Identity.open(rt.system, settings.base_url, fetcher)
        app.state.identity = identity
        rt.access.is_member = GroupMembership(settings.base_url, rt.pods, rt.resources.store,
                                              fetcher).is_member  # acl:agentGroup
        router.ldp = LdpEndpoint(rt, env, identity.authenticator)
        app.state.runtime = rt  # server-path routes (accounts) reach the runtime here
        app.state.webhooks = webhooks = Webhooks(identity.keys, identity.issuer, fetcher)
        try:
            yield
        finally:
            router.ldp = None
            app.state.runtime = None
            await webhooks.close()
            if runtime is None:
                await rt.close()

    api = FastAPI(title="Commonpod", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/.api/openapi.json")
    api.state.settings, api.state.templates = settings, env
    api.include_router(wellknown.router)
    api.include_router(oidc_routes.router)  # discovery, JWKS, token endpoint
    api.include_router(account_pages.router)  # /.account/…
    api.include_router(vocabulary.router)  # /.vocab/ns, /.vocab/shapes
    api.include_router(collect.router)  # /.api/collect: a class's resources in one read

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
        return answer(request, error_for_status(exc.status_code, detail, exc.headers))

    @api.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return answer(request, BadRequest(str(exc.errors()[0].get("msg", "invalid request"))))

    router = Router(api)
    return router
