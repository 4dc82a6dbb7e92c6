"""Every route the server answers, walked from the app itself (for tests that must stay
complete as routes are added: the fuzz test's recipes, the architecture document's table)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from pod.app import create_app
from pod.http.headers import allow
from pod.resources.paths import Target
from pod.settings import Settings

LDP = "/{pod}/{path}"
LDP_MODULE = "pod.http.ldp"


@dataclass(frozen=True)
class Served:
    """One method of one route, and the module of the function that answers it."""

    path: str
    method: str
    module: str


def served() -> list[Served]:
    """The FastAPI routes (in the schema or not) and the LDP edge's methods, as its ``Allow``
    headers name them."""
    def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[Served]:
        for route in routes:
            included = getattr(route, "original_router", None)  # FastAPI keeps them apart
            if included is not None:
                yield from walk(included.routes, prefix + route.include_context.prefix)
            elif isinstance(route, Mount) and route.routes:
                yield from walk(route.routes, prefix + route.path)
            elif isinstance(route, Route):
                module = getattr(route.endpoint, "__module__", "?")
                yield from (Served(prefix + route.path, m, module)
                            for m in route.methods or ("*",))
            elif isinstance(route, WebSocketRoute):
                yield Served(prefix + route.path, "WEBSOCKET",
                             getattr(route.endpoint, "__module__", "?"))
            else:  # a mounted app: whoever walks routes must learn it
                yield Served(prefix + str(getattr(route, "path", "?")), "*", "?")

    app = create_app(Settings(data_dir=Path("/nonexistent")))
    found = set(walk(app.api.router.routes))
    for path in ("/", "/c/", "/doc", "/.acl", "/c/.acl"):
        found |= {Served(LDP, m, LDP_MODULE) for m in allow(Target("p", path)).split(", ")}
    return sorted(found, key=lambda s: (s.path, s.method))
