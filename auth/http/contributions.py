"""The owner's contributions in the browser: ``/.account/contributions`` (the list),
``/.account/contributions/edit`` (add one, or change one) and ``/.account/contributions/delete``
(asked to confirm, then done).

Every write goes through :mod:`auth.contributions` as a PUT or DELETE by the owner's WebID,
so the shape checks it exactly as it checks an API client's write: a refused one shows the
shape's messages beside the fields they concern, keeps what was typed, and stores nothing.
Forms carry the session's CSRF token.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.contributions import ContributionForm, field_errors, kinds
from auth.http import bodies, web
from auth.http.deps import ContributionsDep, PagesDep, SessionDep
from auth.sessions import Session
from pod.deps import PodsDep
from pod.errors import PodError

router = APIRouter()
LIST = "/.account/contributions"
EDIT = LIST + "/edit"
DELETE = LIST + "/delete"
DONE = {"added": "Contribution added.", "saved": "Contribution saved.",
        "deleted": "Contribution deleted."}
CHANGED = ("This contribution was changed meanwhile (in another tab or by an app): open it "
           "again and redo your edit.")
#: what to do, in the owner's words, beside the shape's own message for each field
HINTS = {"name": "Say in a sentence what you did.", "kinds": "Tick at least one kind of work.",
         "scope": "Give the web address of the project or community (https://…).",
         "receiver": "Give a web address or a WebID (https://…), or leave it empty.",
         "date": "Give the day it happened, or the period it took.",
         "beginning": "The period must begin before it ends.",
         "end": "Give the day it ended, or leave it empty.",
         "hours": "Give a number of hours, such as 2 or 3.5.",
         "description": "Keep it to 10,000 characters.",
         "evidence": "Give web addresses (https://…), one per line."}
TEXT_FIELDS = ("name", "description", "scope", "receiver", "date", "beginning", "end", "hours",
               "evidence", "document", "version")


async def _edit_page(pages: PagesDep, session: Session, form: ContributionForm,
                     status: int = 200, errors: dict[str, list[str]] | None = None
                     ) -> Response:
    known = {k.iri for k in kinds()}
    return await pages.session_page(
        session, "contributions/edit.html", status, contribution=form, kinds=kinds(),
        other_kinds=[k for k in form.kinds if k not in known], errors=errors or {},
        hints=HINTS)


@router.get(LIST, include_in_schema=False)
async def contributions_page(request: Request, session: SessionDep, pages: PagesDep,
                             pods: PodsDep, contributions: ContributionsDep,
                             done: str | None = None) -> Response:
    if session is None:
        return web.no_session(request)
    account = session.account
    keys = await pages.pod_of(pods, session)
    if isinstance(keys, Response):
        return keys
    try:
        listed = await contributions.listing(keys, account.name, account.webid)
        container = await contributions.container(keys, account.name)
    except PodError as error:
        return pages.problem_page(error.status, "Your contributions cannot be listed",
                                  web.sentence(error.detail))
    labels = {k.iri: k.label for k in kinds()}
    return await pages.session_page(session, "contributions/list.html", contributions=listed,
                                    labels=labels, container=container,
                                    notice=DONE.get(done or ""))


@router.get(EDIT, include_in_schema=False)
async def edit_page(request: Request, session: SessionDep, pages: PagesDep, pods: PodsDep,
                    contributions: ContributionsDep, document: str | None = None) -> Response:
    if session is None:
        return web.no_session(request)
    if not document:
        return await _edit_page(pages, session, ContributionForm())
    account = session.account
    keys = await pages.pod_of(pods, session)
    if isinstance(keys, Response):
        return keys
    try:
        form = await contributions.read(keys, account.name, account.webid, document)
    except PodError as error:
        return pages.problem_page(error.status, "This contribution cannot be edited",
                                  web.sentence(error.detail))
    return await _edit_page(pages, session, form)


async def _session_fields(request: Request, pages: PagesDep
                          ) -> tuple[Session, list[tuple[str, str]]] | Response:
    """A signed-in browser's form with its repeated fields (the kinds ticked), CSRF checked."""
    try:
        fields = await bodies.read_form(request)
    except bodies.BodyError as error:
        return pages.form_error(error)
    session = await pages.cookies.session(request)
    if session is None:
        return web.no_session(request)
    csrf = next((v for k, v in fields if k == "csrf"), None)
    if not await pages.csrf.check_session(session.digest, csrf):
        return pages.forbidden()
    return session, fields


@router.post(EDIT, include_in_schema=False)
async def save(request: Request, pages: PagesDep, pods: PodsDep,
               contributions: ContributionsDep) -> Response:
    checked = await _session_fields(request, pages)
    if isinstance(checked, Response):
        return checked
    session, fields = checked
    first: dict[str, str] = {}
    for key, value in fields:
        first.setdefault(key, value)
    form = ContributionForm(**{k: first.get(k, "") for k in TEXT_FIELDS},
                            kinds=[v for k, v in fields if k == "kind"][:20])
    account = session.account
    keys = await pages.pod_of(pods, session)
    if isinstance(keys, Response):
        return keys
    new = not form.document
    try:
        await contributions.save(keys, account.name, account.webid, form)
    except PodError as error:
        status = error.status if error.status in (400, 404, 409, 412, 413, 422, 507) else 400
        errors = {"form": [CHANGED]} if error.status == 412 else field_errors(error)
        return await _edit_page(pages, session, form, status, errors)
    return web.redirect(LIST + "?" + urlencode({"done": "added" if new else "saved"}))


@router.get(DELETE, include_in_schema=False)
async def delete_page(request: Request, session: SessionDep, pages: PagesDep, pods: PodsDep,
                      contributions: ContributionsDep, document: str | None = None
                      ) -> Response:
    if session is None:
        return web.no_session(request)
    account = session.account
    keys = await pages.pod_of(pods, session)
    if isinstance(keys, Response):
        return keys
    try:
        form = await contributions.read(keys, account.name, account.webid, document or "")
    except PodError as error:
        return pages.problem_page(error.status, "This contribution cannot be deleted",
                                  web.sentence(error.detail))
    return await pages.session_page(session, "contributions/delete.html", contribution=form)


@router.post(DELETE, include_in_schema=False)
async def delete(request: Request, pages: PagesDep, pods: PodsDep,
                 contributions: ContributionsDep) -> Response:
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    account = session.account
    keys = await pages.pod_of(pods, session)
    if isinstance(keys, Response):
        return keys
    try:
        await contributions.delete(keys, account.name, account.webid,
                                   form.get("document", ""), form.get("version", ""))
    except PodError as error:
        detail = ("it was changed since you opened it; look at it again first"
                  if error.status == 412 else error.detail)
        return pages.problem_page(error.status, "This contribution was not deleted",
                                  web.sentence(detail))
    return web.redirect(LIST + "?done=deleted")
