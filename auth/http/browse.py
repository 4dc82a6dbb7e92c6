"""The pod browser's view: a browser asking for a pod URL gets a page showing it.

A web page kept in the pod (HTML, XHTML) is the exception: its URL answers the page itself,
as the LDP edge serves it to anyone (sandboxed), so a pod can still host web pages; the pod
browser shows it at ``URL?view``.

``pod.app.Router`` sends here the requests for pod resources that :func:`is_page_request`
says come from a browser — GET or HEAD, no ``Authorization``, an ``Accept`` that ranks
``text/html`` above every RDF syntax and JSON — and everything else to the LDP edge, which
knows no cookies: a session cookie never authorizes an API request, it only shows pages. The
page is read as the signed-in person's WebID acting directly (anonymous without a session)
through :class:`~pod.access.browsing.PodBrowsing`, so it shows exactly what the API would
give that person. Its actions are the CSRF-protected forms of :mod:`auth.http.pod_forms`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlencode

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.http import web
from auth.http.cookies import Cookies
from auth.http.web import Pages
from auth.sessions import Session
from pod.access.agent import ANONYMOUS, Agent
from pod.access.browsing import Listing, PodBrowsing
from pod.access.modes import Mode
from pod.display import compact, term
from pod.errors import PodError
from pod.negotiation import media_type, prefers_over
from pod.resources import rdf
from pod.resources.paths import Target, parse_target
from pod.resources.records import BINARY, CONTAINER, RDF, Resource
from pod.services import PodServices

log = logging.getLogger("commonpod")
RAW = "/.account/pod/raw"
EDIT = "/.account/pod/edit"
DELETE = "/.account/pod/delete"
UPLOAD = "/.account/pod/upload"
FOLDER = "/.account/pod/folder"
SHARE = "/.account/share"
MAX_STATEMENTS = 2000
MAX_TEXT_PREVIEW = 256 * 1024
EDIT_LIMIT = 1024 * 1024
"""Documents larger than this are not offered for editing in the page."""
IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif",
                    "image/svg+xml", "image/bmp"})
PDF = "application/pdf"
WEB_PAGES = frozenset({"text/html", "application/xhtml+xml"})
_NOT_PAGES = (*rdf.RDF_TYPES, "application/json")
_KINDS = {"text/turtle": "Turtle", "application/ld+json": "JSON-LD",
          "application/n-triples": "N-Triples", "text/plain": "text", "text/markdown": "Markdown",
          "text/html": "HTML", "text/csv": "CSV", "application/json": "JSON", PDF: "PDF"}
VIEW_CSP = (web.PAGE_HEADERS["Content-Security-Policy"]
            + "; frame-src 'self'")  # a PDF's preview is a frame of /.account/pod/raw


def is_page_request(method: str, accept: str | None, authorization: bool) -> bool:
    """Whether a request for a pod URL is a browser asking for the page that shows it."""
    return (method in ("GET", "HEAD") and not authorization
            and prefers_over(accept, "text/html", _NOT_PAGES))


def is_text(content_type: str | None) -> bool:
    """Whether a stored media type is text a page can show and edit."""
    kind = media_type(content_type) or ""
    return (kind.startswith("text/") or kind in ("application/json", "application/xml")
            or kind.endswith(("+json", "+xml")) or kind in rdf.RDF_TYPES)


def kind_words(kind: str | None, content_type: str | None) -> str:
    """What a resource is, for a person: "Folder", "Turtle document", "PNG image"."""
    if kind == CONTAINER:
        return "Folder"
    if kind is None:
        return "Not readable by you"
    bare = media_type(content_type) or ""
    named = _KINDS.get(bare)
    if bare.startswith("image/"):
        return f"{bare[6:].split('+')[0].upper()} image"
    if kind == RDF:
        return f"{named or 'RDF'} document"
    if named:
        return f"{named} file"
    return f"File ({bare})" if bare else "File"


def display_name(target: Target) -> str:
    """A resource's name as a person reads it: its last segment, decoded; the pod's name for
    its root."""
    if target.is_root:
        return target.pod
    return unquote(target.name.rstrip("/"))


def crumbs(resources_url: str, target: Target) -> list[dict[str, str]]:
    """The containers from the pod's root down to ``target``, each with its URL."""
    out = [{"name": target.pod, "url": resources_url + "/"}]
    for path in [*target.ancestors()[1:], *([] if target.is_root else [target.path])]:
        out.append({"name": unquote(path.rstrip("/").rpartition("/")[2]),
                    "url": resources_url + path})
    return out


def _node(node: Any, document: str) -> dict[str, str | None]:
    """One term of a statement for the table: its text, and the IRI as link and title."""
    if isinstance(node, ox.NamedNode):
        return {"text": term(node.value, document), "href": node.value}
    if isinstance(node, ox.Literal):
        note = node.language or (compact(node.datatype.value) or node.datatype.value)
        return {"text": node.value,
                "note": None if note in ("xsd:string", "rdf:langString") else note}
    if isinstance(node, ox.BlankNode):
        return {"text": "_:" + node.value}
    return {"text": str(node)}


def statements(triples: list[ox.Triple], document: str) -> list[dict[str, Any]]:
    """The rows of a statements table (subject, predicate, object), up to
    :data:`MAX_STATEMENTS`."""
    return [{"s": _node(t.subject, document), "p": _node(t.predicate, document),
             "o": _node(t.object, document)} for t in triples[:MAX_STATEMENTS]]


def notice(query: Mapping[str, str]) -> str | None:
    """What a page says after an action sent the browser back to it (``?uploaded=N``,
    ``?saved=1``, ``?deleted=N``)."""
    for key, words in (("uploaded", "{} file{} uploaded."), ("deleted", "{} item{} deleted.")):
        value = query.get(key, "")
        if value.isdigit() and len(value) < 7:
            return words.format(int(value), "" if value == "1" else "s")
    return "Saved." if query.get("saved") == "1" else None


def raw_url(url: str, download: bool = False) -> str:
    return RAW + "?" + urlencode({"resource": url, **({"download": "1"} if download else {})})


def is_web_page(res: Resource) -> bool:
    """Whether a stored resource is a web page (HTML, XHTML): a browser asking for its URL
    gets it as it is, sandboxed by the LDP edge; its pod browser page is ``URL?view``."""
    return res.kind == BINARY and media_type(res.content_type) in WEB_PAGES


def preview_of(res: Resource) -> str:
    """How the page previews a resource: ``statements``, ``image``, ``pdf``, ``text`` or
    ``none``."""
    bare = media_type(res.content_type) or ""
    if res.kind in (RDF, CONTAINER):
        return "statements"
    if bare in IMAGES:
        return "image"
    if bare == PDF:
        return "pdf"
    return "text" if is_text(res.content_type) else "none"


def editable(res: Resource, target: Target) -> bool:
    """Whether the page offers to edit ``res`` as text."""
    return (res.kind != CONTAINER and not target.aux and len(res.body) <= EDIT_LIMIT
            and is_text(res.content_type))


class PodView:
    """The ASGI app answering browsers' requests for pod URLs with the pod browser's page."""

    def __init__(self, services: PodServices, browsing: PodBrowsing, pages: Pages,
                 cookies: Cookies, ldp: ASGIApp):
        self.rt, self.browsing, self.pages, self.cookies = services, browsing, pages, cookies
        self.ldp = ldp  # answers for stored web pages (HTML, XHTML), as for any client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self.answer(request)
        except PodError as error:  # the store busy, a worker's budget: said on a page
            response = self.pages.problem_page(error.status, error.title,
                                               web.sentence(error.detail), error.headers)
        except Exception:
            log.exception("the pod browser failed to show a page")  # no path: user data
            response = self.pages.problem_page(500, "Something went wrong",
                                               "The server could not show this page.")
        if response is None:
            await self.ldp(scope, receive, send)
            return
        response.headers["Vary"] = "Accept, Authorization, Cookie"
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Response | None:
        """The page for the request's pod URL (an error page when there is none); ``None``
        when the LDP edge answers instead (a stored web page the browser may open as is)."""
        session = await self.cookies.session(request)
        raw = request.scope.get("raw_path") or request.scope["path"].encode()
        path = raw.decode("latin-1").split("?", 1)[0]  # still percent-encoded, as the LDP edge
        try:
            target = parse_target(path)
        except PodError as error:
            return self.pages.problem_page(error.status, "No such address",
                                           web.sentence(error.detail))
        keys = await self.rt.pods.find(target.pod)
        if keys is None:
            return self.pages.problem_page(404, "No such pod",
                                           f"There is no pod named {target.pod} here.")
        url = self.rt.resources.url(target)
        if target.is_root and not path.endswith("/"):
            return web.redirect(url)
        agent = Agent(webid=session.account.webid) if session else ANONYMOUS
        found = await self.rt.reads.get(keys, target, agent)
        if (found.resource is not None and is_web_page(found.resource)
                and "view" not in request.query_params):
            return None  # a web page kept in the pod is served as itself, by the LDP edge
        try:
            found = await self.browsing.view(keys, target, agent, found)
        except PodError as error:
            if session is None and error.status == 401:
                return web.redirect(web.login_url(path))
            return self.pages.problem_page(
                error.status, "You cannot open this",
                "This is not shared with you. Ask its owner to share it with you, or sign "
                "in as someone it is shared with.")
        res = found.resource
        if res is None:
            return await self._render(session, "pod/missing.html", 404, target=target,
                                      url=url, crumbs=crumbs(self._pod_url(target), target),
                                      name=display_name(target))
        modes = found.decision.modes
        context: dict[str, Any] = {
            "target": target, "url": url, "name": display_name(target),
            "crumbs": crumbs(self._pod_url(target), target), "res": res,
            "kind": kind_words(res.kind, res.content_type), "size": len(res.body),
            "can_write": Mode.WRITE in modes, "can_append": Mode.APPEND in modes or
            Mode.WRITE in modes, "can_share": Mode.CONTROL in modes and session is not None,
            "raw_url": raw_url(url), "download_url": raw_url(url, download=True),
            "share_url": SHARE + "?" + urlencode({"resource": url}),
            "delete_url": DELETE + "?" + urlencode({"resource": url}),
            "edit_url": EDIT + "?" + urlencode({"resource": url}),
            "preview": preview_of(res), "editable": editable(res, target),
            "signed_in": session is not None,
            "request_notice": notice(request.query_params)}
        if res.kind == CONTAINER:
            listing = await self.browsing.listing(keys, target, agent, found.members)
            context.update(self._listing(target, listing),
                           new_url=EDIT + "?" + urlencode({"container": url}),
                           upload_url=UPLOAD, folder_url=FOLDER,
                           limit=self.rt.settings.max_body_bytes)
        if context["preview"] == "statements":
            own = self.rt.resources.triples(keys.pod_id, target, res, [])
            if res.kind == CONTAINER:  # its listing shows the members; only its own triples
                managed = set(self.rt.resources.server_triples(target, []))
                own = [t for t in own if t not in managed]
            context["statements"] = statements(own, url)
            context["more_statements"] = max(0, len(own) - MAX_STATEMENTS)
        elif context["preview"] == "text":
            context["text"] = res.body[:MAX_TEXT_PREVIEW].decode("utf-8", "replace")
            context["text_cut"] = len(res.body) > MAX_TEXT_PREVIEW
        template = "pod/container.html" if res.kind == CONTAINER else "pod/resource.html"
        return await self._render(session, template, 200, **context)

    def _pod_url(self, target: Target) -> str:
        return self.rt.resources.url(target, "/")[:-1]

    def _listing(self, target: Target, listing: Listing) -> dict[str, Any]:
        base = self._pod_url(target)
        entries = [{"name": unquote(e.name.rstrip("/")),
                    "url": base + e.path + ("?view" if media_type(e.content_type) in WEB_PAGES
                                            and e.kind == BINARY else ""),
                    "folder": e.kind == CONTAINER, "kind": kind_words(e.kind, e.content_type),
                    "size": e.size, "modified": e.modified, "count": e.count}
                   for e in listing.entries]
        entries.sort(key=lambda e: (not e["folder"], str(e["name"]).lower()))
        return {"entries": entries, "total": listing.total,
                "hidden": listing.total - len(listing.entries)}

    async def _render(self, session: Session | None, template: str, status: int,
                      **context: Any) -> Response:
        headers = {"Content-Security-Policy": VIEW_CSP}
        if session is None:
            return self.pages.page(template, status, headers, **context)
        return await self.pages.session_page(session, template, status, headers, **context)

