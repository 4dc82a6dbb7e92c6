"""Deleting one's own account: ``/.account/delete`` (the deletion itself: :mod:`auth.deletion`).

A plain form, no JavaScript: the CSRF token of the session, the password again and the account
name typed out. A wrong password counts as a failed sign-in (:mod:`auth.ratelimit`); a wrong
name or password deletes nothing. Afterwards the apps holding grants are told
(``grant.revoked``, reason ``account.deleted``) and the browser is signed out.
"""

from __future__ import annotations

import contextlib
import hmac
import time

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.accounts import AccountError
from auth.deletion import Deleted
from auth.http import web
from auth.http.deps import (
    AccountsDep,
    AddressDep,
    CookiesDep,
    DeletionDep,
    LimitsDep,
    PagesDep,
    SessionDep,
    WebhooksDep,
)
from auth.http.signin import known_device
from auth.webhooks import ACCOUNT_DELETED, Webhooks

router = APIRouter()
PATH = "/.account/delete"
DONE = "/.account/deleted"


@router.get(PATH, include_in_schema=False)
async def delete_form(request: Request, session: SessionDep, pages: PagesDep) -> Response:
    if session is None:
        return web.no_session(request)
    return await pages.session_page(session, "account/delete.html")


@router.post(PATH, include_in_schema=False)
async def delete(request: Request, pages: PagesDep, cookies: CookiesDep, accounts: AccountsDep,
                 limits: LimitsDep, address: AddressDep, deletion: DeletionDep,
                 hooks: WebhooksDep) -> Response:
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    account = session.account
    known = await known_device(request, cookies, accounts, account.name)
    device_id = known.id if known else None

    async def again(status: int, message: str, headers: dict[str, str] | None = None
                    ) -> Response:
        return await pages.session_page(session, "account/delete.html", status,
                                        headers=headers, error=message)

    typed = form.get("confirm", "").strip()
    if not hmac.compare_digest(typed.encode(), account.name.encode()):
        return await again(400, f"Type the account name, {account.name}, exactly to confirm.")
    wait = await limits.retry_after(account.name, address, device_id)
    if wait:
        return await again(429, "Too many wrong passwords. Try again later.",
                           {"Retry-After": str(wait)})
    if await accounts.check_password(account.name, form.get("password", "")) is None:
        await limits.fail(account.name, address, device_id)
        return await again(400, "The password is wrong. Nothing was deleted.")
    # deleted meanwhile (another tab, the command line)? The outcome is the same
    with contextlib.suppress(AccountError):
        _tell_apps(hooks, await deletion.delete(account.name))
    await limits.forget(account.name)
    response = web.redirect(DONE)
    cookies.end_session(response)
    return response


def _tell_apps(hooks: Webhooks, done: Deleted) -> None:
    """Send each app holding a grant its ``grant.revoked`` event (in the background)."""
    now = time.time()
    for notice in done.notices:
        hooks.grant_revoked(notice.url, client_id=notice.client_id, grant=notice.grant,
                            owner=done.webid, revoked_at=now, reason=ACCOUNT_DELETED)


@router.get(DONE, include_in_schema=False)
async def deleted(pages: PagesDep) -> Response:
    return pages.page("account/deleted.html")
