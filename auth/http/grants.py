"""The owner's grants: the page ``/.account/grants`` and the API ``/.api/grants``.

The page lists every consent decision — app, what, why, until when, status — with a revoke
button (a CSRF-protected form). The API does the same for the owner's own programs: a token of
the pod owner's WebID acting directly, never an app (apps cannot see or change consent).
Revoking ends the app's access at its next request and tells the app at the webhook it
declared, with an event signed by this server's key. ``/.api/grants/mine`` answers an app (or
an agent acting as itself) what it holds, so it need not probe with requests that fail.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth import consent
from auth.consent import Consent
from auth.http import bodies, web
from auth.http.deps import ConsentDep, NamesDep, PagesDep, SessionDep, WebhooksDep
from auth.webhooks import Webhooks
from pod.access.agent import Agent
from pod.access.grants import Grant, app_iri, client_id_of, held
from pod.deps import AccessDep, PodsDep, ResourcesDep, SystemDep, authenticated, owner_acting
from pod.errors import BadRequest, Forbidden, NotFound
from pod.resources.paths import Target
from pod.store.system import SystemRecords
from vocab.purposes import purpose

router = APIRouter()
GRANTS_PAGE = "/.account/grants"
GRANTS_API = "/.api/grants"
HELD_API = GRANTS_API + "/mine"
GRANTS_FORBIDDEN = "only the pod's owner, not an app, may see or change its grants"
PodOwner = Annotated[Agent, Depends(owner_acting(GRANTS_FORBIDDEN))]
AppCaller = Annotated[Agent, Depends(authenticated("the app's credentials (a DPoP-bound token) "
                                                   "are needed"))]


async def revoke(consents: Consent, system: SystemRecords, hooks: Webhooks, pod: str,
                 owner: str, grant_iri: str) -> Grant:
    """Withdraw a grant, and tell its app at the webhook it declared when the owner consented
    (signed; delivered in the background with retries)."""
    grant = await consents.revoke(pod, grant_iri)
    if not grant.withdrawn:
        notice = await consent.revocation_notice(system, grant)
        if notice is not None:
            hooks.grant_revoked(notice.url, client_id=notice.client_id, grant=grant.iri,
                                owner=owner, revoked_at=time.time())
    return grant


MODE_WORDS = {"read": "see", "append": "add to", "write": "change", "control": "share"}


def _purposes(grants: list[Grant]) -> dict[str, str]:
    """The DPV purposes the grants name, by their labels."""
    out = {}
    for g in grants:
        for p in g.permissions:
            found = purpose(p.purpose) if p.purpose else None
            if found is not None and p.purpose:
                out[p.purpose] = found.label
    return out


@router.get(GRANTS_PAGE, include_in_schema=False)
async def grants_page(request: Request, session: SessionDep, pages: PagesDep,
                      consents: ConsentDep, names: NamesDep,
                      revoked: str | None = None) -> Response:
    """The apps the owner allowed, active ones first: each by its name (the IRI a click
    away), what it may do where, why and until when, with a button to withdraw consent."""
    if session is None:
        return web.no_session(request)
    now = time.time()
    found = await consents.grants(session.account.name)
    shown = sorted((g.as_json(now) for g in found), key=lambda g: g["status"] != "active")
    apps = await names.apps([client_id_of(a) for g in found for a in g.apps], found)
    people = await names.people(a for g in found for a in g.agents)
    return await pages.session_page(
        session, "account/grants.html", grants=shown, purposes=_purposes(found),
        app_names={a: apps[client_id_of(a)] for g in found for a in g.apps
                   if client_id_of(a) in apps}, names=people, mode_words=MODE_WORDS,
        notice="Consent withdrawn: the app's access ended." if revoked else None)


@router.post(GRANTS_PAGE + "/revoke", include_in_schema=False)
async def revoke_form(request: Request, pages: PagesDep, consents: ConsentDep,
                      system: SystemDep, hooks: WebhooksDep) -> Response:
    checked = await pages.session_form(request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    account = session.account
    await revoke(consents, system, hooks, account.name, account.webid, form.get("grant", ""))
    return web.redirect(GRANTS_PAGE + "?revoked=1")


@router.get(GRANTS_API)
async def grants_api(pod: str, owner: PodOwner, consents: ConsentDep) -> JSONResponse:
    """Every grant of ``pod``, newest first."""
    now = time.time()
    found = await consents.grants(pod)
    return JSONResponse({"grants": [g.as_json(now) for g in found]},
                        headers={"Cache-Control": "no-store"})


@router.get(HELD_API)
async def held_api(pod: str, agent: AppCaller, pods: PodsDep, access: AccessDep,
                   resources: ResourcesDep, consents: ConsentDep) -> JSONResponse:
    """What the caller was granted in ``pod`` (docs/api.md §5): for an app with a token of the
    pod's owner, the owner's active grants to that app; for an agent acting as itself (its own
    WebID, no app in between), the active grants naming that WebID. Only the caller's own
    grants, and of each only its permissions still in force; never other assignees."""
    if await pods.find(pod) is None:
        raise NotFound(f"there is no pod named {pod!r} on this server")
    owner = access.owner(pod)
    if agent.app is not None and agent.webid != owner:
        raise Forbidden(f"the app acts for {agent.webid}, not for the owner of {pod!r}: only "
                        "the owner's grants bound an app there (its access to other pods is "
                        "what WAC allows that user, within that user's own grant to it)")
    if agent.app is None and agent.webid == owner:
        raise Forbidden(f"the owner holds every mode in {pod!r}; the owner's programs list "
                        f"every grant at {GRANTS_API}")
    now = time.time()
    party = {"app": app_iri(agent.app)} if agent.app else {"agent": agent.webid}
    found = held(await consents.grants(pod), now=now, **party)
    return JSONResponse({"pod": resources.url(Target(pod, "/")), **party,
                         "grants": [g.as_held_json(now) for g in found]},
                        headers={"Cache-Control": "no-store"})


@router.post(GRANTS_API + "/revoke")
async def revoke_api(request: Request, pod: str, owner: PodOwner, access: AccessDep,
                     consents: ConsentDep, system: SystemDep, hooks: WebhooksDep
                     ) -> JSONResponse:
    """Withdraw the grant named in the JSON body ``{"grant": IRI}``."""
    try:
        body = await bodies.read_json(request)
    except bodies.BodyError as error:
        raise error.problem() from None
    if not isinstance(body, dict) or not isinstance(body.get("grant"), str):
        raise BadRequest('the body must be JSON: {"grant": "<grant IRI>"}')
    await revoke(consents, system, hooks, pod, access.owner(pod), body["grant"])
    now = time.time()
    current = next(g for g in await consents.grants(pod) if g.iri == body["grant"])
    return JSONResponse(current.as_json(now), headers={"Cache-Control": "no-store"})
