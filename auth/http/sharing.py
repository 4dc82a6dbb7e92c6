"""Sharing from the browser: ``/.account/share`` (who has access to a resource; share it),
``/.account/share/remove`` (take access away) and ``/.account/shared`` (what was shared with
you).

The signed-in person acts as their own WebID, directly: the same access decision as any
agent — Control of the resource — decides whether they may see and change who has access
(:mod:`pod.access.sharing`, which writes the ACL as WAC). A person is checked to resolve to a
profile before anything is written, and told through their inbox (:mod:`auth.notify`);
whether that worked is shown, by code. Forms carry the session's CSRF token.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.http import web
from auth.http.deps import (
    NotifierDep,
    PagesDep,
    PeopleDep,
    ReadsDep,
    SessionDep,
    SharingDep,
)
from auth.notify import REASONS, announcement
from auth.people import People, Unresolved
from auth.sessions import Session
from pod.access.acl_edit import EVERYONE, SIGNED_IN, EditRefused, Holder, Party
from pod.access.agent import Agent
from pod.access.inbox import SharedItem, shared_with
from pod.access.modes import Mode
from pod.deps import PodsDep, SettingsDep
from pod.errors import PodError
from pod.resources.paths import Target, parse_target

router = APIRouter()
PAGE = "/.account/share"
REMOVE = PAGE + "/remove"
SHARED = "/.account/shared"
KINDS = ("person", "group", "authenticated", "public")
WORDS = {Mode.READ: "see", Mode.APPEND: "add to", Mode.WRITE: "change", Mode.CONTROL: "share"}
DONE = {"shared": "Shared.", "removed": "Access taken away."}


class _Bad(ValueError):
    """A form value that cannot be used; the message is for the page."""


def _target(base_url: str, resource: str | None) -> Target:
    """The resource of this server a page is about."""
    if not resource or not resource.startswith(base_url) or len(resource) > 4096:
        raise _Bad("Choose a resource of this server to share.")
    try:
        target = parse_target("/" + resource[len(base_url):].partition("?")[0]
                              .partition("#")[0])
    except PodError:
        raise _Bad("That is no resource of this server.") from None
    if target.aux:
        raise _Bad("Share the resource itself; its .acl and .meta go with it.")
    return target


def label(iri: str) -> str:
    """A short name for an IRI nobody named: ``NAME on HOST`` for a Solid WebID, else the
    host and the last part of its path."""
    parts = urlsplit(iri)
    path = unquote(parts.path)
    if path.endswith("/profile/card") and parts.fragment == "me":
        return f"{path.split('/')[-3] or parts.netloc} on {parts.netloc}"
    last = path.rstrip("/").rpartition("/")[2] or parts.netloc
    return f"{last}{'#' + parts.fragment if parts.fragment else ''} on {parts.netloc}"


def _title(target: Target) -> str:
    """A resource's name as a person reads it: its last segment, decoded."""
    if target.is_root:
        return f"the pod {target.pod}"
    return unquote(target.name.rstrip("/"))


def _modes(modes: frozenset[Mode]) -> str:
    words = [WORDS[m] for m in (Mode.READ, Mode.APPEND, Mode.WRITE, Mode.CONTROL)
             if m in modes and not (m == Mode.APPEND and Mode.WRITE in modes)]
    return "can " + (", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1
                     else words[0] if words else "do nothing")


async def _holder(people: People, holder: Holder, owner: str) -> dict[str, object]:
    party = holder.party
    if party.kind == "public":
        name = "Everyone, signed in or not"
    elif party.kind == "authenticated":
        name = "Everyone signed in"
    elif party.kind == "person":
        name = (await people.name(party.iri)) or label(party.iri)
    else:
        try:
            name = (await people.group(party.iri, owner)).name or label(party.iri)
        except Unresolved:
            name = label(party.iri)
    return {"kind": party.kind, "iri": party.iri, "name": name, "modes": _modes(holder.modes),
            "owner": party.kind == "person" and party.iri == owner,
            "origins": sorted(holder.origins)}


async def _page(request: Request, session: Session, pages: PagesDep, settings: SettingsDep,
                pods: PodsDep, sharing: SharingDep, people: PeopleDep, resource: str | None,
                status: int = 200, **context: Any) -> Response:
    try:
        target = _target(settings.base_url, resource)
    except _Bad as bad:
        return pages.problem_page(400, "Nothing to share", str(bad))
    keys = await pods.find(target.pod)
    if keys is None:
        return pages.problem_page(404, "No such pod", "There is no pod of that name here.")
    try:
        access = await sharing.who(keys, target, Agent(webid=session.account.webid))
    except PodError as error:
        return pages.problem_page(error.status, "You cannot share this",
                                  "Only someone who may decide who has access to this resource "
                                  "(its pod's owner) can share it, and it must exist."
                                  if error.status in (401, 403, 404) else web.sentence(
                                      error.detail))
    holders = await asyncio.gather(*(_holder(people, h, access.owner) for h in access.holders))
    source = access.inherited_from
    return await pages.session_page(
        session, "sharing/share.html", status, resource=access.url, title=_title(target),
        container=target.is_container, holders=holders, inherited=source is not None,
        inherited_name=_title(parse_target("/" + source[len(settings.base_url):]))
        if source else None, **context)


@router.get(PAGE, include_in_schema=False)
async def share_page(request: Request, session: SessionDep, pages: PagesDep,
                     settings: SettingsDep, pods: PodsDep, sharing: SharingDep,
                     people: PeopleDep, resource: str | None = None, done: str | None = None,
                     notified: str | None = None) -> Response:
    if session is None:
        return web.no_session(request)
    notice = DONE.get(done or "")
    if notice and notified == "yes":
        notice += " They were told in their inbox."
    elif notice and notified in REASONS:
        notice += f" They were not told: {REASONS[notified]}."
    return await _page(request, session, pages, settings, pods, sharing, people, resource,
                       notice=notice, form={"kind": "person", "modes": ["read"]})


def _party(form: dict[str, str]) -> tuple[str, str]:
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise _Bad("Choose whom to share with.")
    who = form.get("who", "").strip()
    if kind in ("person", "group") and not who:
        raise _Bad("Type the WebID of the person, or the address of the group.")
    return kind, who


@router.post(PAGE, include_in_schema=False)
async def share(request: Request, pages: PagesDep, settings: SettingsDep, pods: PodsDep,
                sharing: SharingDep, people: PeopleDep, notifier: NotifierDep) -> Response:
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    account = session.account
    modes = frozenset(m for m in (Mode.READ, Mode.APPEND, Mode.WRITE) if form.get(m.value))
    resource = form.get("resource")

    async def again(message: str, status: int = 400) -> Response:
        return await _page(request, session, pages, settings, pods, sharing, people, resource,
                           status, error=message, form={
                               "kind": form.get("kind"), "who": form.get("who", "")[:2048],
                               "modes": [m.value for m in modes]})

    try:
        target = _target(settings.base_url, resource)
        kind, who = _party(form)
        if not modes:
            raise _Bad("Choose what they may do: see, add to, or change it.")
    except _Bad as bad:
        return await again(str(bad))
    keys = await pods.find(target.pod)
    if keys is None:
        return await again("There is no pod of that name here.", 404)
    me = Agent(webid=account.webid)
    try:  # may they share it at all? (before any profile is fetched for them)
        await sharing.who(keys, target, me)
    except PodError as error:
        return await again(web.sentence(error.detail), error.status)
    person = None
    try:
        if kind == "person":
            person = await people.person(who)
            party = Party("person", person.webid)
        elif kind == "group":
            party = Party("group", (await people.group(who, account.webid)).iri)
        else:
            party = Party(kind, EVERYONE if kind == "public" else SIGNED_IN)
    except Unresolved as error:
        return await again(web.sentence(str(error)))
    try:
        await sharing.share(keys, target, me, party, modes)
    except EditRefused as error:
        return await again(web.sentence(str(error)))
    except PodError as error:
        return await again(web.sentence(error.detail), error.status)
    query = {"resource": settings.base_url + request_path(target), "done": "shared"}
    if person is not None:
        url = settings.base_url + request_path(target)
        body = announcement(account.webid, account.name, url, person.webid, modes)
        delivery = await notifier.deliver(me, person.inbox, body)
        query["notified"] = "yes" if delivery.delivered else delivery.code
    return web.redirect(PAGE + "?" + urlencode(query))


def request_path(target: Target) -> str:
    return target.pod + target.path


@router.post(REMOVE, include_in_schema=False)
async def remove(request: Request, pages: PagesDep, settings: SettingsDep, pods: PodsDep,
                 sharing: SharingDep, people: PeopleDep) -> Response:
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    resource = form.get("resource")
    try:
        target = _target(settings.base_url, resource)
        kind, who = _party(form)
    except _Bad as bad:
        return pages.problem_page(400, "Nothing to take away", str(bad))
    party = Party(kind, who if kind in ("person", "group")
                  else EVERYONE if kind == "public" else SIGNED_IN)
    keys = await pods.find(target.pod)
    try:
        if keys is None:
            return pages.problem_page(404, "No such pod", "There is no pod of that name here.")
        await sharing.unshare(keys, target, Agent(webid=session.account.webid), party)
    except (EditRefused, PodError) as error:
        message = str(error) if isinstance(error, EditRefused) else error.detail
        return await _page(request, session, pages, settings, pods, sharing, people, resource,
                           getattr(error, "status", 400), error=web.sentence(message),
                           form={"kind": "person", "modes": ["read"]})
    return web.redirect(PAGE + "?" + urlencode({"resource": settings.base_url
                                                + request_path(target), "done": "removed"}))


def shared_view(items: list[SharedItem], names: dict[str, str]) -> list[dict[str, object]]:
    """What the ``_shared_with_you.html`` partial shows of each item."""
    out: list[dict[str, object]] = []
    for item in items:
        parts = urlsplit(item.resource)
        when = datetime.fromtimestamp(item.published, UTC) if item.published else None
        out.append({
            "url": item.resource,
            "name": unquote(parts.path.rstrip("/").rpartition("/")[2]) or item.resource,
            "by": names.get(item.actor or "") or (label(item.actor) if item.actor else None),
            "by_iri": item.actor, "checked": item.checked,
            "modes": [WORDS[m] for m in (Mode.READ, Mode.APPEND, Mode.WRITE) if m.value in
                      item.modes],
            "datetime": when.isoformat().replace("+00:00", "Z") if when else None,
            "date": when.strftime("%d %B %Y") if when else None})
    return out


async def shared_context(reads: ReadsDep, pods: PodsDep, people: PeopleDep, session: Session,
                         limit: int = 20) -> list[dict[str, object]]:
    """The data of "shared with you" for the signed-in person (for the dashboard too)."""
    account = session.account
    items = await shared_with(reads, pods.find, account.name, account.webid, limit=limit)
    actors = sorted({i.actor for i in items if i.actor})
    found = await asyncio.gather(*(people.name(a) for a in actors))
    return shared_view(items, {a: n for a, n in zip(actors, found, strict=True) if n})


@router.get(SHARED, include_in_schema=False)
async def shared_page(request: Request, session: SessionDep, pages: PagesDep, reads: ReadsDep,
                      pods: PodsDep, people: PeopleDep) -> Response:
    if session is None:
        return web.no_session(request)
    shared = await shared_context(reads, pods, people, session, limit=100)
    return await pages.session_page(session, "sharing/shared.html", shared=shared)
