"""The LDP edge: one ASGI endpoint for every pod resource (Solid Protocol 0.11 §4–§5).

It parses the request — target, headers, body — and runs the one-way flow: authenticate →
required modes → access decision → resource service → response. No policy lives here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING

from jinja2 import Environment
from starlette.types import Receive, Scope, Send

from auth.authenticate import Authenticator
from pod.access.agent import ANONYMOUS, Agent
from pod.access.audit import AccessRecord
from pod.access.modes import Mode, required
from pod.errors import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PodError,
    UnsupportedMediaType,
)
from pod.http import headers as h
from pod.http import problems
from pod.http.exchange import Disconnected, Exchange, Reply, send_reply
from pod.negotiation import choose, media_type
from pod.resources import rdf
from pod.resources.conditions import Conditions
from pod.resources.patch import ParsedPatch, parse_n3_patch, parse_sparql_update
from pod.resources.paths import ACL_SUFFIX, Target, parse_target
from pod.resources.records import BINARY, CONTAINER, RDF, Resource
from pod.resources.service import load
from pod.store.sealed import PodKeys

if TYPE_CHECKING:
    from pod.runtime import Runtime

CONTAINER_LINKS = ("<http://www.w3.org/ns/ldp#BasicContainer>", "<http://www.w3.org/ns/ldp#Container>")
PATCH_PARSERS = {"text/n3": parse_n3_patch, "application/sparql-update": parse_sparql_update}


@dataclass
class Visit:
    """Who did what to which pod, filled in as a request is handled, for the access log."""

    keys: PodKeys | None = None
    agent: Agent | None = None
    target: Target | None = None
    grants: list[str] = field(default_factory=list)


_METHOD_MODES = {"GET": "read", "HEAD": "read", "POST": "append"}


def _mode(method: str, target: Target) -> str:
    """The access mode a request is logged under."""
    if target.aux == ACL_SUFFIX:
        return "control"
    return _METHOD_MODES.get(method, "write")


class LdpEndpoint:
    """ASGI app serving ``/{pod}/{path}``."""

    def __init__(self, runtime: Runtime, templates: Environment, authenticator: Authenticator):
        self.rt = runtime
        self.templates = templates
        self.auth = authenticator
        self.base = runtime.settings.base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Exchange(scope, receive)
        origin = request.headers.get("origin")
        visit = Visit()
        try:
            reply = await self.handle(request, origin, visit)
        except Disconnected:
            return  # nothing was written; nobody is listening for an answer
        except PodError as exc:
            reply = problems.render(exc, request.headers.get("accept"), self.templates)
        except Exception as exc:
            reply = problems.unexpected(exc, request.headers.get("accept"), self.templates)
        self._record(visit, request.method, reply.status)
        reply.headers.update(h.cors(origin))
        if "Link" not in reply.headers:  # every response names the storage description
            reply.headers["Link"] = h.storage_link(self.base)
        await send_reply(send, reply, head=request.method == "HEAD")

    def _record(self, visit: Visit, method: str, status: int) -> None:
        """One access-log record for a request by an app or by anyone but the owner (anonymous
        requests only when they succeeded, so nobody can flood an owner's log)."""
        agent, target = visit.agent, visit.target
        if visit.keys is None or agent is None or target is None:
            return
        if agent.app is None and agent.webid == self.rt.access.owner(target.pod):
            return
        if agent.webid is None and status >= 400:
            return  # an anonymous request that read or changed nothing: not worth a record
        self.rt.log.record(visit.keys, AccessRecord(
            time.time(), agent.webid, agent.app, self.rt.resources.url(target),
            _mode(method, target), method, status, visit.grants[0] if visit.grants else None))

    async def handle(self, request: Exchange, origin: str | None, visit: Visit) -> Reply:
        target = parse_target(request.path)
        if target.is_root and not request.path.endswith("/"):
            return Reply(301, {"Location": self.rt.resources.url(target)})
        method = request.method
        if method == "OPTIONS":
            return self._options(request, target, origin)
        keys = await self.rt.pods.find(target.pod)
        if keys is None:
            raise NotFound(f"there is no pod named {target.pod!r} on this server")
        agent = await self.auth.agent(method, self.base + request.path[1:], request.headers)
        visit.keys, visit.agent, visit.target = keys, agent, target
        conditions = Conditions.from_headers(request.headers.get("if-match"),
                                             request.headers.get("if-none-match"))
        if method in ("GET", "HEAD"):
            return await self._get(request, keys, target, visit, conditions)
        if method == "PUT":
            return await self._put(request, keys, target, visit, conditions)
        if method == "POST":
            return await self._post(request, keys, target, visit)
        if method == "PATCH":
            return await self._patch(request, keys, target, visit, conditions)
        if method == "DELETE":
            await self._authorize(keys, target, visit, method)
            await self.rt.resources.delete(keys, target, conditions)
            return Reply(204)
        raise MethodNotAllowed(f"{method} is not supported", headers={"Allow": h.allow(target)})

    # --- steps -----------------------------------------------------------------------------

    async def _authorize(self, keys: PodKeys, target: Target, visit: Visit, method: str,
                         patch: ParsedPatch | None = None) -> None:
        async with self.rt.resources.store.read(keys) as reader:
            exists = method not in ("PUT", "PATCH") or await reader.exists(target.path)
            needs = required(method, target, exists,
                             patch_reads=bool(patch and patch.reads),
                             patch_deletes=bool(patch is None or patch.deletes))
            await self.rt.access.check(reader, keys, target, visit.agent or ANONYMOUS, needs,
                                       visit.grants)

    async def _body(self, request: Exchange) -> bytes:
        return await request.body(self.rt.settings.max_body_bytes)

    def _headers(self, target: Target, res: Resource | None) -> dict[str, str]:
        owner = self.rt.access.owner(target.pod) if target.is_root else None
        return h.resource_headers(self.rt.resources.url(target), target, res, self.base, owner)

    # --- methods ---------------------------------------------------------------------------

    def _options(self, request: Exchange, target: Target, origin: str | None) -> Reply:
        headers = self._headers(target, None)
        headers.update(h.cors(origin, request.headers.get("access-control-request-headers"),
                              preflight=True))
        return Reply(204, headers)

    async def _get(self, request: Exchange, keys: PodKeys, target: Target, visit: Visit,
                   conditions: Conditions) -> Reply:
        agent = visit.agent or ANONYMOUS
        async with self.rt.resources.store.read(keys) as reader:
            if target.aux:
                needs = required("GET", target, True)
                await self.rt.access.check(reader, keys, target, agent, needs, visit.grants)
                wac_allow = await self.rt.access.wac_allow(reader, keys, target.subject, agent)
            else:  # one ACL walk answers both the decision and WAC-Allow
                wac_allow = await self.rt.access.check_with_allow(reader, keys, target, agent,
                                                                  Mode.READ, visit.grants)
            res = await load(reader, target.path)
            if res is None:
                raise NotFound()
            members = await self.rt.resources.members(reader, target, res)
            headers = self._headers(target, res)
            headers["WAC-Allow"] = wac_allow
        conditions.check_read(res)
        accept = request.headers.get("accept")
        if res.kind == BINARY:
            choose(accept, [media_type(res.content_type) or res.content_type])
            body, ctype = res.body, res.content_type
        else:
            ctype = choose(accept, rdf.RDF_TYPES)
            if res.kind == RDF and ctype == res.content_type:
                body = res.body  # as it was written
            elif ctype == rdf.TURTLE and res.kind == CONTAINER:
                body = self.rt.resources.turtle(target, res, members)
            else:
                body = rdf.serialize(self.rt.resources.triples(keys.pod_id, target, res, members),
                                     ctype)
        headers["Content-Type"] = ctype
        return Reply(200, headers, body)

    async def _put(self, request: Exchange, keys: PodKeys, target: Target, visit: Visit,
                   conditions: Conditions) -> Reply:
        await self._authorize(keys, target, visit, "PUT")
        body = await self._body(request)
        created, res = await self.rt.resources.put(
            keys, target, body, request.headers.get("content-type"), conditions)
        return self._written(target, res, created)

    async def _post(self, request: Exchange, keys: PodKeys, target: Target,
                    visit: Visit) -> Reply:
        await self._authorize(keys, target, visit, "POST")
        body = await self._body(request)
        link = request.headers.get("link", "")
        container = 'rel="type"' in link and any(c in link for c in CONTAINER_LINKS)
        ctype = request.headers.get("content-type")
        if not ctype and (body or not container):
            raise BadRequest("a Content-Type header is required")
        child, res = await self.rt.resources.post(
            keys, target, body, ctype, request.headers.get("slug"), container)
        return self._written(child, res, True)

    async def _patch(self, request: Exchange, keys: PodKeys, target: Target, visit: Visit,
                     conditions: Conditions) -> Reply:
        ctype = media_type(request.headers.get("content-type"))
        if ctype is None:
            raise BadRequest("a Content-Type header is required")
        parser = PATCH_PARSERS.get(ctype)
        if parser is None:
            raise UnsupportedMediaType(f"PATCH takes {h.ACCEPT_PATCH}",
                                       headers={"Accept-Patch": h.ACCEPT_PATCH})
        body = await self._body(request)
        patch = parser(body, self.rt.resources.url(target))
        await self._authorize(keys, target, visit, "PATCH", patch)
        created, res = await self.rt.resources.patch(keys, target, patch, conditions)
        return self._written(target, res, created)

    def _written(self, target: Target, res: Resource, created: bool) -> Reply:
        url = self.rt.resources.url(target)
        headers = {"ETag": res.etag, "Last-Modified": formatdate(res.modified, usegmt=True)}
        if created:
            headers["Location"] = url
            headers["Content-Location"] = url
        return Reply(201 if created else 204, headers)
