"""The pod browser's actions: raw files, uploads, new folders, editing and deleting.

Each is a page of its own under ``/.account/pod/`` with a CSRF-protected form, acting as the
signed-in person's WebID directly through :class:`~pod.access.browsing.PodBrowsing` — the
access decision, the resource service (shapes, quotas) and the access log of the API. Bad
input answers a readable page and stores nothing: names are checked before anything is
written, and an upload that fails half-way takes back what it had written.
"""

from __future__ import annotations

import contextlib
import mimetypes
from typing import Any
from urllib.parse import quote, unquote, urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.http import web
from auth.http.bodies import BodyError
from auth.http.browse import (
    DELETE,
    EDIT,
    EDIT_LIMIT,
    FOLDER,
    PDF,
    RAW,
    UPLOAD,
    crumbs,
    display_name,
    editable,
    is_text,
)
from auth.http.deps import BrowsingDep, PagesDep, SessionDep
from auth.http.uploads import read_upload
from auth.sessions import Session
from pod.access.agent import ANONYMOUS, Agent
from pod.access.browsing import PodBrowsing
from pod.deps import PodsDep, ResourcesDep, SettingsDep
from pod.errors import InvalidSyntax, PodError, PreconditionFailed
from pod.negotiation import media_type
from pod.resources import rdf
from pod.resources.conditions import Conditions
from pod.resources.paths import AUX_SUFFIXES, Target, canonical_segment, parse_target
from pod.resources.records import CONTAINER
from pod.store.sealed import PodKeys

router = APIRouter()
MAX_FILES = 32
FORM_OVERHEAD = 64 * 1024  # multipart framing and the other fields
MAX_LISTED = 200  # names a delete confirmation lists (the rest are counted)
NEW_TYPES = {"text/turtle": "Turtle (RDF)", "application/ld+json": "JSON-LD (RDF)",
             "text/plain": "Plain text", "text/markdown": "Markdown", "text/csv": "CSV",
             "application/json": "JSON"}
RAW_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; " \
          "frame-ancestors 'self'"
PDF_CSP = "default-src 'none'; frame-ancestors 'self'"


class Refused(ValueError):
    """A form value that cannot be used; the message is for the page."""


def pod_target(base_url: str, value: str | None) -> Target:
    """The resource of this server a form names by its URL."""
    if not value or not value.startswith(base_url) or len(value) > 4096:
        raise Refused("Choose a file or folder of a pod on this server.")
    try:
        return parse_target("/" + value[len(base_url):].partition("?")[0].partition("#")[0])
    except PodError:
        raise Refused("That is no file or folder of a pod on this server.") from None


def new_name(raw: str, folder: bool = False, *, uploaded: bool = False) -> str:
    """A new member's name as a path segment; refuses names no file may have here. An
    ``uploaded`` file's name loses any folders a browser sent with it."""
    name = raw.replace("\\", "/").rpartition("/")[2] if uploaded else raw
    name = name.strip()
    if not name:
        raise Refused("Give it a name.")
    if "/" in name or "\\" in name:
        raise Refused(f"“{name}” cannot be used: a name cannot hold / or \\.")
    if name.startswith(".") or name.endswith(AUX_SUFFIXES):
        raise Refused(f"“{name}” cannot be used: names starting with a dot or ending in .acl "
                      "or .meta are kept for the pod's own settings.")
    if len(name) > 200:
        raise Refused("That name is too long (at most 200 characters).")
    try:
        segment = canonical_segment(name)
    except PodError:
        raise Refused(f"“{name}” cannot be used as a name.") from None
    return segment + ("/" if folder else "")


def me(session: Session | None) -> Agent:
    return Agent(webid=session.account.webid) if session else ANONYMOUS


async def _keys(pods: PodsDep, target: Target) -> PodKeys:
    keys = await pods.find(target.pod)
    if keys is None:
        raise Refused("There is no pod of that name here.")
    return keys


def _refusal(pages: PagesDep, error: PodError, reading: bool = False) -> Response:
    """The page for a refused read or write (401/403 in words), or another failure."""
    if error.status in (401, 403):
        return pages.problem_page(error.status, "You cannot do this here",
                                  "This is not shared with you. Ask its owner to share it with "
                                  "you." if reading else "This is not yours to change, and "
                                  "nobody shared it with you for changing.")
    return pages.problem_page(error.status, "This could not be done", web.sentence(error.detail))


# --- raw files ------------------------------------------------------------------------------

def _disposition(name: str, download: bool) -> str:
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                         for c in name) or "file"
    kind = "attachment" if download else "inline"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get(RAW, include_in_schema=False)
async def raw(request: Request, session: SessionDep, pages: PagesDep, pods: PodsDep,
              settings: SettingsDep, browsing: BrowsingDep, resource: str | None = None,
              download: str | None = None) -> Response:
    """A stored file's bytes for the signed-in person (or anyone, when it is public): text
    as plain text, images and PDFs as themselves, sandboxed, never cached."""
    try:
        target = pod_target(settings.base_url, resource)
        keys = await _keys(pods, target)
    except Refused as bad:
        return pages.problem_page(400, "No such file", str(bad))
    try:
        found = await browsing.view(keys, target, me(session))
    except PodError as error:
        if session is None and error.status == 401:
            return web.redirect(web.login_url(RAW + "?" + urlencode({"resource": resource})))
        return _refusal(pages, error, reading=True)
    res = found.resource
    if res is None:
        return pages.problem_page(404, "No such file", "There is nothing at this address.")
    if res.kind == CONTAINER:
        return web.redirect(str(resource))
    bare = media_type(res.content_type) or "application/octet-stream"
    shown = download is not None
    if is_text(res.content_type):
        charset = "utf-8"
        for param in res.content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value.strip('"').isascii():
                charset = value.strip('"')
        ctype = f"text/plain; charset={charset}"
    elif bare.startswith("image/") or bare == PDF:
        ctype = bare
    else:
        ctype, shown = "application/octet-stream", True
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": PDF_CSP if bare == PDF else RAW_CSP,
               "X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "no-referrer",
               "Cross-Origin-Resource-Policy": "same-origin",
               "Content-Disposition": _disposition(display_name(target), shown)}
    return Response(res.body, media_type=ctype, headers=headers)


# --- uploads and folders --------------------------------------------------------------------

async def _container(settings: SettingsDep, pods: PodsDep, value: str | None
                     ) -> tuple[Target, PodKeys]:
    target = pod_target(settings.base_url, value)
    if not target.is_container:
        raise Refused("Choose a folder to put it in.")
    return target, await _keys(pods, target)


@router.post(UPLOAD, include_in_schema=False)
async def upload(request: Request, session: SessionDep, pages: PagesDep, pods: PodsDep,
                 settings: SettingsDep, browsing: BrowsingDep) -> Response:
    """Files uploaded into a folder, several at once (together within ``max_body_bytes``):
    all of them, or none."""
    if session is None:
        return web.no_session(request)
    limit = settings.max_body_bytes
    try:
        form = await read_upload(request, limit + FORM_OVERHEAD, max_parts=MAX_FILES + 4)
    except BodyError as error:
        return pages.problem_page(error.status, "The upload could not be accepted",
                                  web.sentence(error.detail) + " Upload fewer or smaller "
                                  f"files at once ({limit:,} bytes at most).",
                                  error.headers)
    if not await pages.csrf.check_session(session.digest, form.fields.get("csrf")):
        return pages.forbidden()
    files = [(name, ctype, data) for _, name, ctype, data in form.every_file if name]
    try:
        container, keys = await _container(settings, pods, form.fields.get("container"))
        if not files:
            raise Refused("Choose one or more files to upload.")
        if len(files) > MAX_FILES:
            raise Refused(f"Upload at most {MAX_FILES} files at once.")
        names = [new_name(name, uploaded=True) for name, _, _ in files]
        if len(set(names)) != len(names):
            raise Refused("Two of the files have the same name.")
        for (name, _, data) in files:
            if len(data) > limit:
                raise Refused(f"“{name}” is larger than this server takes ({limit:,} bytes "
                              "at most).")
    except Refused as bad:
        return pages.problem_page(400, "The upload could not be accepted", str(bad))
    agent, written = me(session), []
    try:
        for segment, (name, ctype, data) in zip(names, files, strict=True):
            kind = _upload_type(name, ctype)
            target = container.with_path(container.path + segment)
            await browsing.put(keys, target, agent, data, kind, Conditions.from_headers(
                None, "*"))
            written.append(target)
    except PodError as error:
        for target in written:  # all or nothing: take back this upload's files
            with contextlib.suppress(PodError):
                await browsing.delete(keys, target, agent, [target.path])
        failed = files[len(written)][0]
        if isinstance(error, PreconditionFailed):
            message = f"“{failed}” exists already in this folder; rename it or delete the old one."
        elif error.status in (401, 403):
            return _refusal(pages, error)
        else:
            message = f"“{failed}”: {web.sentence(error.detail)}"
        return pages.problem_page(error.status if error.status != 412 else 409,
                                  "The upload was not stored", message + " Nothing of this "
                                  "upload was kept.")
    url = browsing.resources.url(container)
    return web.redirect(url + "?" + urlencode({"uploaded": len(written)}))


def _upload_type(name: str, declared: str) -> str:
    """The media type an uploaded file is stored with: the browser's, else one guessed from
    its name (``application/octet-stream`` when nothing says)."""
    bare = media_type(declared)
    if bare and bare != "application/octet-stream":
        return declared
    guessed = mimetypes.guess_type(name, strict=False)[0]
    if name.endswith(".ttl"):
        guessed = rdf.TURTLE
    elif name.endswith(".jsonld"):
        guessed = rdf.JSON_LD
    return guessed or "application/octet-stream"


@router.post(FOLDER, include_in_schema=False)
async def new_folder(request: Request, pages: PagesDep, pods: PodsDep, settings: SettingsDep,
                     browsing: BrowsingDep) -> Response:
    """A new, empty folder in a folder."""
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    try:
        container, keys = await _container(settings, pods, form.get("container"))
        target = container.with_path(container.path + new_name(form.get("name", ""), True))
    except Refused as bad:
        return pages.problem_page(400, "The folder could not be made", str(bad))
    try:
        await browsing.put(keys, target, me(session), b"", rdf.TURTLE,
                           Conditions.from_headers(None, "*"))
    except PreconditionFailed:
        return pages.problem_page(409, "The folder could not be made",
                                  "Something of that name exists already here.")
    except PodError as error:
        return _refusal(pages, error)
    return web.redirect(browsing.resources.url(target))


# --- creating and editing documents ---------------------------------------------------------

def _line(body: str, line: int | None) -> str | None:
    if not line:
        return None
    lines = body.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else None


async def _edit_page(session: Session, pages: PagesDep, status: int = 200, **context: Any
                     ) -> Response:
    return await pages.session_page(session, "pod/edit.html", status, types=NEW_TYPES,
                                    **context)


@router.get(EDIT, include_in_schema=False)
async def edit_form(request: Request, session: SessionDep, pages: PagesDep, pods: PodsDep,
                    settings: SettingsDep, browsing: BrowsingDep, resource: str | None = None,
                    container: str | None = None) -> Response:
    """The editor: a new document in ``container``, or ``resource``'s text."""
    if session is None:
        return web.no_session(request)
    base = browsing.resources.url
    try:
        if container is not None:
            target, keys = await _container(settings, pods, container)
            await browsing.view(keys, target, me(session))
            return await _edit_page(session, pages, container=base(target), new=True,
                                    crumbs=crumbs(base(target, "/")[:-1], target),
                                    form={"content_type": "text/turtle", "body": ""})
        target = pod_target(settings.base_url, resource)
        keys = await _keys(pods, target)
    except Refused as bad:
        return pages.problem_page(400, "Nothing to edit", str(bad))
    except PodError as error:
        return _refusal(pages, error)
    try:
        found = await browsing.view(keys, target, me(session))
    except PodError as error:
        return _refusal(pages, error)
    res = found.resource
    if res is None or not editable(res, target):
        return pages.problem_page(404 if res is None else 400, "Nothing to edit",
                                  "There is no text document at this address to edit here."
                                  if res is None else "Only text documents up to "
                                  f"{EDIT_LIMIT // 1024} KB can be edited in the page.")
    return await _edit_page(session, pages, resource=base(target), new=False,
                            name=display_name(target),
                            crumbs=crumbs(base(target, "/")[:-1], target),
                            form={"content_type": res.content_type, "etag": res.etag,
                                  "body": res.body.decode("utf-8", "replace")})


@router.post(EDIT, include_in_schema=False)
async def save(request: Request, pages: PagesDep, pods: PodsDep, settings: SettingsDep,
               browsing: BrowsingDep, resources: ResourcesDep) -> Response:
    """Save a document: a new one (``container`` and ``name``) or an edit of ``resource``
    (only if unchanged since the editor opened it)."""
    checked = await pages.session_form(request, limit=EDIT_LIMIT + FORM_OVERHEAD)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    body = form.get("body", "").replace("\r\n", "\n")
    is_new = "container" in form
    ctype = form.get("content_type", "")
    context: dict[str, Any] = {"form": {**form, "body": body}, "new": is_new,
                               "container": form.get("container"),
                               "resource": form.get("resource")}
    try:
        if is_new:
            container, keys = await _container(settings, pods, form.get("container"))
            if ctype not in NEW_TYPES:
                raise Refused("Choose what kind of document it is.")
            target = container.with_path(container.path + new_name(form.get("name", "")))
            conditions = Conditions.from_headers(None, "*")
        else:
            target = pod_target(settings.base_url, form.get("resource"))
            keys = await _keys(pods, target)
            if target.is_container or target.aux:
                raise Refused("Only documents can be edited here.")
            conditions = Conditions.from_headers(form.get("etag") or "*", None)
        context["crumbs"] = crumbs(resources.url(target, "/")[:-1], target)
        context["name"] = display_name(target)
    except Refused as bad:
        return await _edit_page(session, pages, 400, error=str(bad), **context)
    if not ctype or len(ctype) > 200:
        return await _edit_page(session, pages, 400, error="Say what kind of document it is.",
                                **context)
    try:
        await browsing.put(keys, target, me(session), body.encode(), ctype, conditions)
    except InvalidSyntax as error:
        line = error.extra.get("line")
        return await _edit_page(session, pages, 400, error=web.sentence(error.detail),
                                error_line=line if isinstance(line, int) else None,
                                error_text=_line(body, line if isinstance(line, int)
                                                 else None), **context)
    except PreconditionFailed:
        message = ("Something of that name exists already here." if is_new else
                   "This document changed since you opened it. Copy your text, reload the "
                   "page and make your change again.")
        return await _edit_page(session, pages, 409, error=message, **context)
    except PodError as error:
        if error.status in (401, 403):
            return _refusal(pages, error)
        return await _edit_page(session, pages, error.status,
                                error=web.sentence(error.detail), **context)
    return web.redirect(resources.url(target) + "?saved=1")


# --- deleting -------------------------------------------------------------------------------

async def _tree(browsing: PodBrowsing, pods: PodsDep, settings: SettingsDep,
                session: Session, resource: str | None) -> tuple[Target, PodKeys, list[str]]:
    target = pod_target(settings.base_url, resource)
    keys = await _keys(pods, target)
    if target.is_root:
        raise Refused("A pod's root folder cannot be deleted. To delete everything, delete "
                      "your account.")
    return target, keys, await browsing.tree(keys, target, me(session))


@router.get(DELETE, include_in_schema=False)
async def delete_form(request: Request, session: SessionDep, pages: PagesDep, pods: PodsDep,
                      settings: SettingsDep, browsing: BrowsingDep,
                      resource: str | None = None) -> Response:
    """What a delete takes away (a folder: everything in it), and the button to do it."""
    if session is None:
        return web.no_session(request)
    try:
        target, _, paths = await _tree(browsing, pods, settings, session, resource)
    except Refused as bad:
        return pages.problem_page(400, "Nothing to delete", str(bad))
    except PodError as error:
        return _refusal(pages, error)
    url = browsing.resources.url
    return await pages.session_page(
        session, "pod/delete.html", resource=url(target), name=display_name(target),
        folder=target.is_container, crumbs=crumbs(url(target, "/")[:-1], target),
        going=[unquote(p[len(target.parent or "/"):]) for p in paths[:MAX_LISTED]],
        count=len(paths),
        more=max(0, len(paths) - MAX_LISTED))


@router.post(DELETE, include_in_schema=False)
async def delete(request: Request, pages: PagesDep, pods: PodsDep, settings: SettingsDep,
                 browsing: BrowsingDep) -> Response:
    """Delete a file, or a folder with everything in it, as confirmed: when more would go
    than the confirmation said, nothing is deleted and the page asks again."""
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    try:
        target, keys, paths = await _tree(browsing, pods, settings, session,
                                          form.get("resource"))
    except Refused as bad:
        return pages.problem_page(400, "Nothing to delete", str(bad))
    except PodError as error:
        return _refusal(pages, error)
    if form.get("count") != str(len(paths)):
        return pages.problem_page(409, "Nothing was deleted",
                                  "What is in this folder changed since you confirmed. Go "
                                  "back, reload the page and confirm again.")
    try:
        await browsing.delete(keys, target, me(session), paths)
    except PodError as error:
        return _refusal(pages, error)
    parent = browsing.resources.url(target, target.parent)
    return web.redirect(parent + "?" + urlencode({"deleted": len(paths)}))
