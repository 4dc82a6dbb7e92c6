"""The signed-in pages: the account page ``/.account/`` and ``/.account/password``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.accounts import AccountError
from auth.http import web
from auth.http.credentials import credentials_context
from auth.http.dashboard import dashboard
from auth.http.deps import (
    AccountsDep,
    AddressDep,
    ClientsDep,
    ConsentDep,
    CookiesDep,
    CredentialsDep,
    LimitsDep,
    PagesDep,
    PeopleDep,
    ReadsDep,
    SessionDep,
    SessionsDep,
)
from auth.http.sharing import shared_context
from auth.http.signin import known_device
from auth.passwords import WeakPassword, check_new
from pod.deps import LogDep, PodsDep, ResourcesDep

router = APIRouter()


@router.get(web.ACCOUNT_PAGE, include_in_schema=False)
async def account_page(request: Request, session: SessionDep, pages: PagesDep,
                       credentials: CredentialsDep, pods: PodsDep, reads: ReadsDep,
                       resources: ResourcesDep, log: LogDep, consents: ConsentDep,
                       people: PeopleDep, clients: ClientsDep,
                       changed: str | None = None) -> Response:
    """The dashboard: storage used, recent accesses, apps allowed, statements received,
    what was shared with the person, what to do next; app credentials."""
    if session is None:
        return web.no_session(request)
    notices = {"password": "Your password is changed; every other session is signed out.",
               "credentials": "The credential is revoked."}
    return await pages.session_page(
        session, "account/home.html", notice=notices.get(changed or ""),
        shared=await shared_context(reads, pods, people, session, limit=5),
        **await dashboard(session, pods, reads, resources, log, consents, people, clients),
        **await credentials_context(credentials, session))


@router.get("/.account/password", include_in_schema=False)
async def password_form(request: Request, session: SessionDep, pages: PagesDep) -> Response:
    if session is None:
        return web.no_session(request)
    return await pages.session_page(session, "account/password.html")


@router.post("/.account/password", include_in_schema=False)
async def change_password(request: Request, pages: PagesDep, cookies: CookiesDep,
                          sessions: SessionsDep, accounts: AccountsDep, limits: LimitsDep,
                          address: AddressDep) -> Response:
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    account = session.account
    known = await known_device(request, cookies, accounts, account.name)
    device_id = known.id if known else None

    async def again(status: int, message: str, headers: dict[str, str] | None = None
                    ) -> Response:
        return await pages.session_page(session, "account/password.html", status,
                                        headers=headers, error=message)

    new = form.get("new", "")
    if new != form.get("confirm", ""):
        return await again(400, "The two new passwords differ.")
    try:
        check_new(new)
    except WeakPassword as exc:
        return await again(400, web.sentence(str(exc)))
    wait = await limits.retry_after(account.name, address, device_id)
    if wait:
        return await again(429, "Too many wrong passwords. Try again later.",
                           {"Retry-After": str(wait)})
    if await accounts.check_password(account.name, form.get("current", "")) is None:
        await limits.fail(account.name, address, device_id)
        return await again(400, "The current password is wrong.")
    try:
        account = await accounts.set_password(account, new)
    except (AccountError, WeakPassword) as exc:
        return await again(400, web.sentence(str(exc)))
    await sessions.end_all(account.name)
    token, _ = await sessions.start(account)
    response = web.redirect(web.ACCOUNT_PAGE + "?changed=password")
    cookies.start_session(response, token)
    return response
