"""Signing up, in and out: ``/.account/signup``, ``/.account/login``, ``/.account/logout``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.accounts import Account, AccountError, Accounts, check_name
from auth.devices import Device
from auth.http import web
from auth.http.cookies import Cookies
from auth.http.deps import (
    AccountsDep,
    AddressDep,
    CookiesDep,
    CsrfDep,
    InvitesDep,
    LimitsDep,
    PagesDep,
    SessionsDep,
)
from auth.passwords import WeakPassword
from auth.sessions import Sessions
from pod.deps import SettingsDep

router = APIRouter()
CLOSED = "This server does not take sign-ups: its operator creates the accounts."
INVALID_INVITE = ("This invitation link is not valid: it was already used, it expired, or it "
                  "was copied incompletely. Ask whoever invited you for a new one.")


async def _sign_in(request: Request, cookies: Cookies, sessions: Sessions, account: Account,
                   return_to: str, device: Device | None) -> Response:
    """End the browser's old session (if any), start a new one, remember the browser as a
    known device of ``account`` and go to ``return_to``."""
    old = await cookies.session(request)
    if old is not None:
        await sessions.end(old)
    token, _ = await sessions.start(account)
    response = web.redirect(return_to)
    cookies.start_session(response, token)
    await cookies.remember_device(response, device, account)
    return response


async def known_device(request: Request, cookies: Cookies, accounts: Accounts,
                       name: str) -> Device | None:
    """The browser's device cookie if it is known for the account ``name``."""
    device = await cookies.device(request)
    if device is None or not name or not device.names(name):
        return None
    account = await accounts.get(name)
    return device if account is not None and device.knows(account) else None


@router.get("/.account/signup", include_in_schema=False)
async def signup_form(request: Request, pages: PagesDep, invites: InvitesDep,
                      settings: SettingsDep, return_to: str | None = None,
                      invite: str | None = None) -> Response:
    """The sign-up form, or — when the setting ``signup`` is ``closed``, or ``invite`` and the
    link carries no valid invitation — a page saying in words why there is none."""
    policy = settings.signup
    refused = policy == "invite" and invite is not None and not await invites.valid(invite)
    return await pages.visitor_page(request, "account/signup.html", 403 if refused else 200,
                                    policy=policy,
                                    invite=invite if policy == "invite" and not refused
                                    else None,
                                    error=INVALID_INVITE if refused else None,
                                    return_to=web.safe_return_to(return_to), name="")


@router.post("/.account/signup", include_in_schema=False)
async def signup(request: Request, pages: PagesDep, cookies: CookiesDep, sessions: SessionsDep,
                 accounts: AccountsDep, invites: InvitesDep,
                 settings: SettingsDep) -> Response:
    form = await pages.visitor_form(request)
    if isinstance(form, Response):
        return form
    name, password = form.get("name", "").strip().lower(), form.get("password", "")
    return_to = web.safe_return_to(form.get("return_to"))
    policy, invite = settings.signup, form.get("invite")

    async def again(message: str, status: int = 400) -> Response:
        return await pages.visitor_page(request, "account/signup.html", status, error=message,
                                        name=name, return_to=return_to, policy=policy,
                                        invite=invite if policy == "invite" and status == 400
                                        else None)

    if policy == "closed":
        return await again(CLOSED, 403)
    if policy == "invite" and not await invites.valid(invite):
        return await again(INVALID_INVITE, 403)
    if password != form.get("confirm", ""):
        return await again("The two passwords differ.")
    claim = await invites.claim(invite) if policy == "invite" else None
    if policy == "invite" and claim is None:
        return await again(INVALID_INVITE, 403)  # used meanwhile
    try:
        account = await accounts.create(name, password)
    except (AccountError, WeakPassword) as exc:
        if claim is not None:
            await invites.restore(claim)  # the invitation is not used up by a refused form
        return await again(web.sentence(str(exc)))
    return await _sign_in(request, cookies, sessions, account, return_to,
                          await cookies.device(request))


@router.get("/.account/login", include_in_schema=False)
async def login_form(request: Request, pages: PagesDep, return_to: str | None = None
                     ) -> Response:
    return await pages.visitor_page(request, "account/login.html",
                                    return_to=web.safe_return_to(return_to), name="")


@router.post("/.account/login", include_in_schema=False)
async def login(request: Request, pages: PagesDep, cookies: CookiesDep, sessions: SessionsDep,
                accounts: AccountsDep, limits: LimitsDep, address: AddressDep) -> Response:
    form = await pages.visitor_form(request)
    if isinstance(form, Response):
        return form
    name, password = form.get("name", "").strip().lower(), form.get("password", "")
    return_to = web.safe_return_to(form.get("return_to"))
    try:
        key = check_name(name)
    except AccountError:
        key = ""  # invalid names share one bucket: no memory per junk name
    known = await known_device(request, cookies, accounts, key)
    device_id = known.id if known else None

    async def again(status: int, message: str, headers: dict[str, str] | None = None
                    ) -> Response:
        return await pages.visitor_page(request, "account/login.html", status, headers,
                                        error=message, name=name, return_to=return_to)

    wait = await limits.retry_after(key, address, device_id)
    if wait:
        return await again(429, f"Too many failed sign-ins. Try again in {_wait(wait)}.",
                           {"Retry-After": str(wait)})
    account = await accounts.check_password(key, password) if key else None
    if account is None:
        await limits.fail(key, address, device_id)
        return await again(400, "Wrong name or password.")
    await limits.succeed(key, address, device_id)
    return await _sign_in(request, cookies, sessions, account, return_to,
                          known or await cookies.device(request))


@router.post("/.account/logout", include_in_schema=False)
async def logout(request: Request, pages: PagesDep, cookies: CookiesDep, csrf: CsrfDep,
                 sessions: SessionsDep) -> Response:
    try:
        form = await web.read_form(request)
    except web.FormError as exc:
        return pages.form_error(exc)
    session = await cookies.session(request)
    if session is not None:
        if not await csrf.check_session(session.digest, form.get("csrf")):
            return pages.forbidden()
        await sessions.end(session)
    response = web.redirect(web.LOGIN_PAGE)
    cookies.end_session(response)
    return response


def _wait(seconds: int) -> str:
    if seconds < 60:
        return "a few seconds" if seconds < 10 else f"{seconds} seconds"
    minutes = -(-seconds // 60)
    return "a minute" if minutes <= 1 else f"{minutes} minutes"
