"""The typed dependencies of the server paths (FastAPI ``Depends``): the one module that reads
``request.app.state``.

``create_app`` builds every service once, in its lifespan, and installs them as a
:class:`Services` registry keyed by class (:func:`install`). A handler names what it uses in its
signature — ``settings: SettingsDep``, or for any service ``Annotated[Accounts,
Depends(service(Accounts))]`` — so what a route touches, and who may call it, is read off its
definition. Besides services: the agent behind an API call (:data:`AgentDep`, anonymous without
credentials) and the pod owner acting directly (:func:`owner_acting`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, FastAPI, Request
from fastapi.requests import HTTPConnection
from jinja2 import Environment

from auth.authenticate import Authenticator
from pod.access.agent import Agent
from pod.access.audit import AccessLog
from pod.access.decide import CHALLENGE, AccessDecider
from pod.errors import Forbidden, ServiceUnavailable, Unauthenticated
from pod.resources.service import ResourceService
from pod.settings import Settings
from pod.store.directory import PodDirectory
from pod.store.system import SystemRecords

T = TypeVar("T")


class Services:
    """The services of one running server, each found by its class."""

    def __init__(self, *services: object):
        self._by_class: dict[type, object] = {}
        for found in services:
            if type(found) in self._by_class:
                raise ValueError(f"two services of class {type(found).__name__}")
            self._by_class[type(found)] = found

    def get(self, kind: type[T]) -> T:
        return cast(T, self._by_class[kind])


def install(app: FastAPI, services: Services | None) -> None:
    """Hand ``services`` to the app's handlers (``None`` while the server is stopped)."""
    app.state.services = services


_DEPENDENCIES: dict[type, Callable[[Request], Awaitable[Any]]] = {}


def service(kind: type[T]) -> Callable[[Request], Awaitable[T]]:
    """The dependency giving a handler the running server's ``kind``. One function per class,
    so FastAPI resolves each once per request; a coroutine function, so FastAPI calls it on the
    event loop (a plain function it would run in a worker thread, at a thread hand-off per
    dependency per request)."""
    found = _DEPENDENCIES.get(kind)
    if found is None:
        async def dependency(request: HTTPConnection) -> T:  # a request or a socket
            services: Services | None = getattr(request.app.state, "services", None)
            if services is None:
                raise ServiceUnavailable("the server is not running")
            return services.get(kind)

        found = _DEPENDENCIES[kind] = dependency
    return found


SettingsDep = Annotated[Settings, Depends(service(Settings))]
TemplatesDep = Annotated[Environment, Depends(service(Environment))]
AccessDep = Annotated[AccessDecider, Depends(service(AccessDecider))]
AuthenticatorDep = Annotated[Authenticator, Depends(service(Authenticator))]
LogDep = Annotated[AccessLog, Depends(service(AccessLog))]
PodsDep = Annotated[PodDirectory, Depends(service(PodDirectory))]
ResourcesDep = Annotated[ResourceService, Depends(service(ResourceService))]
SystemDep = Annotated[SystemRecords, Depends(service(SystemRecords))]


async def agent(request: Request, authenticator: AuthenticatorDep,
                settings: SettingsDep) -> Agent:
    """The agent behind an API call: a DPoP-bound token and its proof, whose ``htu`` is the URL
    without its query (RFC 9449 §4.3); anonymous without credentials."""
    return await authenticator.agent(
        request.method, settings.base_url + request.url.path[1:], dict(request.headers))


AgentDep = Annotated[Agent, Depends(agent)]


def authenticated(needed: str) -> Callable[[Agent], Awaitable[Agent]]:
    """A dependency: the authenticated agent behind an API call; 401 with ``needed`` (what
    credentials the call wants, in words) without credentials."""
    async def caller(agent: AgentDep) -> Agent:
        if not agent.authenticated:
            raise Unauthenticated(needed, headers={"WWW-Authenticate": CHALLENGE})
        return agent

    return caller


_OWNER_CREDENTIALS = authenticated("the pod owner's credentials are needed")


def owner_acting(forbidden: str) -> Callable[..., Awaitable[Agent]]:
    """A dependency: the owner of the pod named by the ``pod`` query parameter, acting
    directly (their own credentials, never an app); 401 without credentials, 403 with
    ``forbidden`` for anyone else."""
    async def owner(pod: str, agent: Annotated[Agent, Depends(_OWNER_CREDENTIALS)],
                    access: AccessDep) -> Agent:
        if agent.webid != access.owner(pod) or agent.app is not None:
            raise Forbidden(forbidden)
        return agent

    return owner
