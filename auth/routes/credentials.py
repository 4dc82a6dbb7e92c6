"""Client credentials on the account page: create (the secret is shown once) and revoke."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.credentials import Credentials
from auth.routes import web
from auth.sessions import Session

router = APIRouter()
PATH = "/.account/credentials"


def _credentials(request: Request) -> Credentials:
    return request.app.state.identity.credentials


async def credentials_context(request: Request, session: Session) -> dict[str, object]:
    """What the account page's credentials section shows."""
    listed = await _credentials(request).list(session.account.name)
    return {"credentials": [c.public() for c in listed]}


@router.post(PATH, include_in_schema=False)
async def create(request: Request) -> Response:
    checked = await web.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    account = session.account
    cred, secret = await _credentials(request).create(account.name, account.webid,
                                                      form.get("label", ""))
    context = await credentials_context(request, session)
    return await web.session_page(request, session, "account/home.html", 201,
                                  new_credential={"client_id": cred.client_id,
                                                  "client_secret": secret,
                                                  "label": cred.label}, **context)


@router.post(PATH + "/revoke", include_in_schema=False)
async def revoke(request: Request) -> Response:
    checked = await web.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    await _credentials(request).revoke(session.account.name, form.get("client_id", ""))
    return web.redirect(web.ACCOUNT_PAGE + "?changed=credentials")
