"""Signing up, in and out: ``/.account/signup``, ``/.account/login``, ``/.account/logout``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.accounts import Account, AccountError, check_name
from auth.passwords import WeakPassword
from auth.routes import web
from auth.sessions import clear_cookie, current_session, set_cookie

router = APIRouter()


async def _sign_in(request: Request, account: Account, return_to: str) -> Response:
    """End the browser's old session (if any), start a new one and go to ``return_to``."""
    svc = web.services(request)
    old = await current_session(request)
    if old is not None:
        await svc.sessions.end(old)
    token, _ = await svc.sessions.start(account)
    response = web.redirect(return_to)
    set_cookie(response, token, secure=svc.settings.secure_cookies)
    return response


@router.get("/.account/signup", include_in_schema=False)
async def signup_form(request: Request, return_to: str | None = None) -> Response:
    return await web.visitor_page(request, "account/signup.html",
                                  return_to=web.safe_return_to(return_to), name="")


@router.post("/.account/signup", include_in_schema=False)
async def signup(request: Request) -> Response:
    svc = web.services(request)
    form = await web.visitor_form(request)
    if isinstance(form, Response):
        return form
    name, password = form.get("name", "").strip().lower(), form.get("password", "")
    return_to = web.safe_return_to(form.get("return_to"))

    async def again(message: str) -> Response:
        return await web.visitor_page(request, "account/signup.html", 400, error=message,
                                      name=name, return_to=return_to)

    if password != form.get("confirm", ""):
        return await again("The two passwords differ.")
    try:
        account = await svc.accounts.create(name, password)
    except (AccountError, WeakPassword) as exc:
        return await again(web.sentence(str(exc)))
    return await _sign_in(request, account, return_to)


@router.get("/.account/login", include_in_schema=False)
async def login_form(request: Request, return_to: str | None = None) -> Response:
    return await web.visitor_page(request, "account/login.html",
                                  return_to=web.safe_return_to(return_to), name="")


@router.post("/.account/login", include_in_schema=False)
async def login(request: Request) -> Response:
    svc = web.services(request)
    form = await web.visitor_form(request)
    if isinstance(form, Response):
        return form
    name, password = form.get("name", "").strip().lower(), form.get("password", "")
    return_to = web.safe_return_to(form.get("return_to"))
    try:
        key = check_name(name)
    except AccountError:
        key = ""  # invalid names share one bucket: no memory per junk name
    host = web.client_host(request)

    async def again(status: int, message: str, headers: dict[str, str] | None = None
                    ) -> Response:
        return await web.visitor_page(request, "account/login.html", status, headers,
                                      error=message, name=name, return_to=return_to)

    wait = svc.limits.retry_after(key, host)
    if wait:
        return await again(429, f"Too many failed sign-ins. Try again in {_minutes(wait)}.",
                           {"Retry-After": str(wait)})
    account = await svc.accounts.check_password(key, password) if key else None
    if account is None:
        svc.limits.fail(key, host)
        return await again(400, "Wrong name or password.")
    svc.limits.succeed(key)
    return await _sign_in(request, account, return_to)


@router.post("/.account/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    svc = web.services(request)
    try:
        form = await web.read_form(request)
    except web.FormError as exc:
        return web.form_error(request, exc)
    session = await current_session(request)
    if session is not None:
        if not await svc.csrf.check_session(session.digest, form.get("csrf")):
            return web.forbidden(request)
        await svc.sessions.end(session)
    response = web.redirect(web.LOGIN_PAGE)
    clear_cookie(response, secure=svc.settings.secure_cookies)
    return response


def _minutes(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return "a minute" if minutes <= 1 else f"{minutes} minutes"
