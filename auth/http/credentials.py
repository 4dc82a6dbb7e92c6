"""Client credentials on the account page: create (the secret is shown once) and revoke."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.credentials import Credentials
from auth.http import web
from auth.http.deps import CredentialsDep, PagesDep
from auth.sessions import Session

router = APIRouter()
PATH = "/.account/credentials"


async def credentials_context(credentials: Credentials, session: Session) -> dict[str, Any]:
    """What the account page's credentials section shows."""
    listed = await credentials.list(session.account.name)
    return {"credentials": [c.public() for c in listed]}


@router.post(PATH, include_in_schema=False)
async def create(request: Request, pages: PagesDep, credentials: CredentialsDep) -> Response:
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    account = session.account
    cred, secret = await credentials.create(account.name, account.webid, form.get("label", ""),
                                            uid=account.uid)
    context = await credentials_context(credentials, session)
    return await pages.session_page(session, "account/home.html", 201,
                                    new_credential={"client_id": cred.client_id,
                                                    "client_secret": secret,
                                                    "label": cred.label}, **context)


@router.post(PATH + "/revoke", include_in_schema=False)
async def revoke(request: Request, pages: PagesDep, credentials: CredentialsDep) -> Response:
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    await credentials.revoke(session.account.name, form.get("client_id", ""))
    return web.redirect(web.ACCOUNT_PAGE + "?changed=credentials")
