"""The signed-in pages: the account page ``/.account/`` and ``/.account/password``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.accounts import AccountError
from auth.passwords import WeakPassword, check_new
from auth.routes import web
from auth.routes.credentials import credentials_context
from auth.sessions import current_session, set_cookie

router = APIRouter()


@router.get(web.ACCOUNT_PAGE, include_in_schema=False)
async def account_page(request: Request, changed: str | None = None) -> Response:
    session = await current_session(request)
    if session is None:
        return web.no_session(request)
    notices = {"password": "Your password is changed; every other session is signed out.",
               "credentials": "The credential is revoked."}
    return await web.session_page(request, session, "account/home.html",
                                  notice=notices.get(changed or ""),
                                  **await credentials_context(request, session))


@router.get("/.account/password", include_in_schema=False)
async def password_form(request: Request) -> Response:
    session = await current_session(request)
    if session is None:
        return web.no_session(request)
    return await web.session_page(request, session, "account/password.html")


@router.post("/.account/password", include_in_schema=False)
async def change_password(request: Request) -> Response:
    svc = web.services(request)
    checked = await web.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    account, host = session.account, web.client_host(request)

    async def again(status: int, message: str, headers: dict[str, str] | None = None
                    ) -> Response:
        return await web.session_page(request, session, "account/password.html", status,
                                      headers=headers, error=message)

    new = form.get("new", "")
    if new != form.get("confirm", ""):
        return await again(400, "The two new passwords differ.")
    try:
        check_new(new)
    except WeakPassword as exc:
        return await again(400, web.sentence(str(exc)))
    wait = svc.limits.retry_after(account.name, host)
    if wait:
        return await again(429, "Too many wrong passwords. Try again later.",
                           {"Retry-After": str(wait)})
    if await svc.accounts.check_password(account.name, form.get("current", "")) is None:
        svc.limits.fail(account.name, host)
        return await again(400, "The current password is wrong.")
    try:
        account = await svc.accounts.set_password(account, new)
    except (AccountError, WeakPassword) as exc:
        return await again(400, web.sentence(str(exc)))
    await svc.sessions.end_all(account.name)
    token, _ = await svc.sessions.start(account)
    response = web.redirect(web.ACCOUNT_PAGE + "?changed=password")
    set_cookie(response, token, secure=svc.settings.secure_cookies)
    return response
