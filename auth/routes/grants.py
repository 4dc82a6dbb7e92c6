"""The owner's grants: the page ``/.account/grants`` and the API ``/.api/grants``.

The page lists every consent decision — app, what, why, until when, status — with a revoke
button (a CSRF-protected form). The API does the same for the owner's own programs: a token of
the pod owner's WebID acting directly, never an app (apps cannot see or change consent).
Revoking ends the app's access at its next request and tells the app at the webhook it
declared, with an event signed by this server's key.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth import consent
from auth.routes import web
from auth.sessions import current_session
from pod.access.grants import Grant, client_id_of
from pod.errors import BadRequest

if TYPE_CHECKING:
    from auth.webhooks import Webhooks
    from pod.runtime import Runtime

router = APIRouter()
GRANTS_PAGE = "/.account/grants"
GRANTS_API = "/.api/grants"
GRANTS_FORBIDDEN = "only the pod's owner, not an app, may see or change its grants"


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def _notify(request: Request, grant: Grant, owner: str) -> None:
    """Tell the app of a revocation at the webhook it declared when the owner consented
    (signed; delivered in the background with retries)."""
    hooks: Webhooks = request.app.state.webhooks
    url = await consent.webhook_of(_runtime(request).system, grant.iri)
    for app in sorted(grant.apps)[:1] if url else ():
        hooks.grant_revoked(url, client_id=client_id_of(app), grant=grant.iri, owner=owner,
                            revoked_at=time.time())


async def revoke(request: Request, pod: str, owner: str, grant_iri: str) -> Grant:
    """Withdraw a grant and notify its app."""
    grant = await consent.revoke(_runtime(request), pod, grant_iri)
    if not grant.withdrawn:
        await _notify(request, grant, owner)
    return grant


@router.get(GRANTS_PAGE, include_in_schema=False)
async def grants_page(request: Request, revoked: str | None = None) -> Response:
    session = await current_session(request)
    if session is None:
        return web.no_session(request)
    now = time.time()
    found = await consent.grants(_runtime(request), session.account.name)
    return await web.session_page(
        request, session, "account/grants.html", grants=[g.as_json(now) for g in found],
        notice="Consent withdrawn: the app's access ended." if revoked else None)


@router.post(GRANTS_PAGE + "/revoke", include_in_schema=False)
async def revoke_form(request: Request) -> Response:
    checked = await web.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    account = session.account
    await revoke(request, account.name, account.webid, form.get("grant", ""))
    return web.redirect(GRANTS_PAGE + "?revoked=1")


@router.get(GRANTS_API)
async def grants_api(request: Request, pod: str) -> JSONResponse:
    """Every grant of ``pod``, newest first."""
    await web.owner_only(request, pod, GRANTS_FORBIDDEN)
    now = time.time()
    found = await consent.grants(_runtime(request), pod)
    return JSONResponse({"grants": [g.as_json(now) for g in found]},
                        headers={"Cache-Control": "no-store"})


@router.post(GRANTS_API + "/revoke")
async def revoke_api(request: Request, pod: str) -> JSONResponse:
    """Withdraw the grant named in the JSON body ``{"grant": IRI}``."""
    await web.owner_only(request, pod, GRANTS_FORBIDDEN)
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("grant"), str):
        raise BadRequest('the body must be JSON: {"grant": "<grant IRI>"}')
    rt = _runtime(request)
    await revoke(request, pod, rt.access.owner(pod), body["grant"])
    now = time.time()
    current = next(g for g in await consent.grants(rt, pod) if g.iri == body["grant"])
    return JSONResponse(current.as_json(now), headers={"Cache-Control": "no-store"})
