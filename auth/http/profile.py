"""The profile editor, ``/.account/profile``: the owner's name, photo, bio and links, written to
their WebID profile (:mod:`auth.profiles`) as a PUT by the owner's WebID, so WAC, the quota and
the access log apply as to any client. The form is ``multipart/form-data`` (for the photo),
read within a cap in memory and checked against the session's CSRF token before anything else.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.http import web
from auth.http.bodies import BodyError
from auth.http.deps import PagesDep, ProfilesDep, SessionDep
from auth.http.uploads import read_upload
from auth.profiles import MAX_PHOTO, ProfileEdit, ProfileFields, ProfileRefused
from auth.sessions import Session
from pod.deps import PodsDep
from pod.errors import PodError

router = APIRouter()
PAGE = "/.account/profile"
FORM_LIMIT = MAX_PHOTO + 64 * 1024  # the photo, the other fields and multipart framing


async def _page(pages: PagesDep, session: Session, fields: ProfileFields, version: str,
                status: int = 200, **context: Any) -> Response:
    return await pages.session_page(session, "account/profile.html", status, profile=fields,
                                    version=version, max_photo=MAX_PHOTO, **context)


@router.get(PAGE, include_in_schema=False)
async def profile_page(request: Request, session: SessionDep, pages: PagesDep, pods: PodsDep,
                       profiles: ProfilesDep, saved: str | None = None) -> Response:
    if session is None:
        return web.no_session(request)
    account = session.account
    keys = await pages.pod_of(pods, session)
    if isinstance(keys, Response):
        return keys
    try:
        fields, version, _ = await profiles.read(keys, account.name, account.webid)
    except PodError as error:
        return pages.problem_page(error.status, "Your profile cannot be read",
                                  web.sentence(error.detail))
    return await _page(pages, session, fields, version,
                       notice="Your profile was saved." if saved else None)


@router.post(PAGE, include_in_schema=False)
async def save_profile(request: Request, session: SessionDep, pages: PagesDep, pods: PodsDep,
                       profiles: ProfilesDep) -> Response:
    if session is None:
        return web.no_session(request)
    try:
        upload = await read_upload(request, FORM_LIMIT)
    except BodyError as error:
        return pages.form_error(error)
    if not await pages.csrf.check_session(session.digest, upload.fields.get("csrf")):
        return pages.forbidden()
    account = session.account
    keys = await pages.pod_of(pods, session)
    if isinstance(keys, Response):
        return keys
    form = upload.fields
    photo = upload.files.get("photo")
    edit = ProfileEdit(form.get("name", ""), form.get("bio", ""), form.get("links", ""),
                       photo[1] if photo and photo[1] else None,
                       form.get("remove_photo") == "yes", form.get("version", ""))
    try:
        await profiles.save(keys, account.name, account.webid, edit)
    except (ProfileRefused, PodError) as error:
        errors = error.errors if isinstance(error, ProfileRefused) else {
            "form": web.sentence(error.detail)}
        status = error.status if isinstance(error, PodError) else 400
        try:
            current, version, _ = await profiles.read(keys, account.name, account.webid)
        except PodError:
            current, version = ProfileFields(), ""
        typed = ProfileFields(edit.name[:500], edit.bio[:5000], tuple(
            edit.links.splitlines()[:20]), current.photo)
        return await _page(pages, session, typed, version, status, errors=errors)
    return web.redirect(PAGE + "?saved=1")
