"""The LDP edge: one ASGI endpoint for every pod resource (Solid Protocol 0.11 §4–§5).

It parses the request — target, headers, body — and runs the one-way flow: authenticate →
read service (one snapshot of the pod: required modes → access decision → resource) →
resource service for writes → response. No policy lives here, and no store access: reads go
through ``pod.access.reading``, and the access log decides what it records.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formatdate

from jinja2 import Environment
from starlette.types import Receive, Scope, Send

from auth.authenticate import Authenticator
from pod.access.agent import ANONYMOUS, Agent
from pod.access.decide import Decision
from pod.access.reading import PodKeys
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
from pod.resources.patch import MAX_PATCH_BYTES, ParsedPatch, PatchParser
from pod.resources.paths import ACL_SUFFIX, Target, parse_target
from pod.resources.rdfa import Rdfa, hosts_rdfa
from pod.resources.records import BINARY, CONTAINER, RDF, Resource
from pod.services import PodServices
from vocab.namespaces import LDP, iri_of

CONTAINER_LINKS = (f"<{iri_of(LDP.BasicContainer)}>", f"<{iri_of(LDP.Container)}>")


@dataclass(slots=True)
class Visit:
    """Who did what to which pod, filled in as a request is handled, for the access log."""

    keys: PodKeys | None = None
    agent: Agent | None = None
    target: Target | None = None
    grant: str | None = None  # named by the first decision that consulted a grant

    def decided(self, decision: Decision) -> None:
        """Note a decision's grant (a PATCH is decided twice: the first grant is kept)."""
        if self.grant is None:
            self.grant = decision.grant


_METHOD_MODES = {"GET": "read", "HEAD": "read", "POST": "append"}


def _mode(method: str, target: Target) -> str:
    """The access mode a request is logged under."""
    if target.aux == ACL_SUFFIX:
        return "control"
    return _METHOD_MODES.get(method, "write")


class LdpEndpoint:
    """ASGI app serving ``/{pod}/{path}``."""

    def __init__(self, services: PodServices, templates: Environment,
                 authenticator: Authenticator, rdfa: Rdfa):
        self.rt = services
        self.templates = templates
        self.auth = authenticator
        self.base = services.settings.base_url
        self.rdfa = rdfa  # HTML and XHTML documents read as RDF

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Exchange(scope, receive)
        origin = request.headers.get("origin")
        visit = Visit()
        try:
            with self.rt.pods.one_request():  # its pod and its token's: one read if the same
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
        """Hand every request that got as far as authentication to the access log, which
        decides whether it is recorded (``AccessLog.record_request``)."""
        agent, target = visit.agent, visit.target
        if visit.keys is None or agent is None or target is None:
            return
        self.rt.log.record_request(visit.keys, self.rt.access.owner(target.pod), agent,
                                   self.rt.resources.url(target), _mode(method, target), method,
                                   status, visit.grant)

    async def handle(self, request: Exchange, origin: str | None, visit: Visit) -> Reply:
        target = parse_target(request.path)
        keys = await self.rt.pods.find(target.pod)  # a deleted pod is unknown: 404, any method
        if keys is None:
            raise NotFound(f"there is no pod named {target.pod!r} on this server")
        if target.is_root and not request.path.endswith("/"):
            return Reply(301, {"Location": self.rt.resources.url(target)})
        method = request.method
        if method == "OPTIONS":
            return self._options(request, target, origin)
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
                         patch: ParsedPatch | None = None, *, least: bool = False) -> None:
        """Raise 401/403 unless the caller may do this; ``least`` (a PATCH whose body is not
        parsed yet) asks only for what every patch needs: Append."""
        decision = await self.rt.reads.decide_write(
            keys, target, visit.agent or ANONYMOUS, method,
            patch_reads=bool(patch and patch.reads),
            patch_deletes=not least and bool(patch is None or patch.deletes))
        visit.decided(decision)
        decision.require()

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
        found = await self.rt.reads.get(keys, target, visit.agent or ANONYMOUS)
        visit.decided(found.decision)
        res = found.resource_or_raise()
        headers = self._headers(target, res)
        headers["WAC-Allow"] = found.decision.wac_allow
        conditions.check_read(res)
        body, headers["Content-Type"] = await self._representation(
            request.headers.get("accept"), keys, target, res, found.members)
        return Reply(200, headers, body)

    async def _representation(self, accept: str | None, keys: PodKeys, target: Target,
                              res: Resource, members: list[str]) -> tuple[bytes, str]:
        """The body and Content-Type ``accept`` chooses (RFC 9110 §12.5.1). The syntax a
        document was written in wins when the client has no preference (``*/*`` or no
        ``Accept``), so a signed JSON-LD credential comes back byte for byte; HTML and XHTML
        are offered as RDF too (their RDFa)."""
        stored = media_type(res.content_type) or res.content_type
        if res.kind == BINARY:
            rdfa = rdf.RDF_TYPES if hosts_rdfa(stored) else ()
            ctype = choose(accept, [stored, *rdfa])
            if ctype == stored:
                return res.body, res.content_type
            url = self.rt.resources.url(target)
            triples = await self.rdfa.triples((keys.pod_id, target.path, res.version),
                                              res.body, stored, url)
            return rdf.serialize(triples, ctype), ctype
        written = (stored,) if res.kind == RDF and stored in rdf.RDF_TYPES else ()
        ctype = choose(accept, [*written, *(t for t in rdf.RDF_TYPES if t not in written)])
        if ctype in written:
            return res.body, ctype  # as it was written
        if ctype == rdf.TURTLE and res.kind == CONTAINER:
            return self.rt.resources.turtle(target, res, members), ctype
        return rdf.serialize(self.rt.resources.triples(keys.pod_id, target, res, members),
                             ctype), ctype

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
        if ctype not in PatchParser.TYPES:
            raise UnsupportedMediaType(f"PATCH takes {h.ACCEPT_PATCH}",
                                       headers={"Accept-Patch": h.ACCEPT_PATCH})
        await self._authorize(keys, target, visit, "PATCH", least=True)  # before any parsing
        body = await request.body(min(MAX_PATCH_BYTES, self.rt.settings.max_body_bytes))
        patch = await self.rt.patches.parse(ctype, body, self.rt.resources.url(target))
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
