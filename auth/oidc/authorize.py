"""The authorization endpoint (RFC 6749 §4.1.1, Solid-OIDC §5): ``/.oidc/auth``.

``GET`` validates the request with authlib (client, exact redirect URI, response type, PKCE
S256) before anything else, sends a browser without a session to the login page and back,
and shows a signed-in one the consent page. The request itself stays server-side (a pending
record bound to the session, single use); the form carries only its id and a CSRF token.
``POST`` is the consent form: Allow records the needs the owner ticked (with the durations they
chose) as an access grant in their pod and issues a code; Deny answers ``access_denied``; both
redirect with ``iss`` (RFC 9207). The grant, not the code, bounds what the app may do.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth import consent_view
from auth.consent import record, remember_webhook
from auth.oidc.clients import Clients
from auth.oidc.grants import AppClient, Call
from auth.oidc.provider import oauth2_request
from auth.oidc.records import commit, keep_pending, take_pending
from auth.routes import web
from auth.sessions import current_session

if TYPE_CHECKING:
    from auth.identity import Identity
    from pod.store.system import SystemRecords

router = APIRouter()
AUTH_PATH = ".oidc/auth"
SCOPE_TEXT = {
    "openid": "Confirm that you are signed in here",
    "webid": "Use your WebID to read and write what you may read and write in Solid pods",
    "offline_access": "Keep this access while you are away (refresh tokens)",
}


def _identity(request: Request) -> Identity:
    return request.app.state.identity


def _system(request: Request) -> SystemRecords:
    return request.app.state.runtime.system


def clients(request: Request) -> Clients:
    """The app's client registry (with its Client ID Document cache), made on first use."""
    state = request.app.state
    system = _system(request)
    found: Clients | None = getattr(state, "oidc_clients", None)
    if found is None or found.system is not system:
        found = state.oidc_clients = Clients(system, state.fetcher)
    return found


async def app_client(request: Request, client_id: str | None) -> AppClient | None:
    info = await clients(request).find(client_id) if client_id else None
    return AppClient(info) if info else None


def _with_iss(location: str, issuer: str) -> str:
    return add_params_to_uri(location, [("iss", issuer)])  # RFC 9207 §2


def _refusal(request: Request, error: OAuth2Error) -> Response:
    """To the client's (validated) redirect URI when there is one, else an error page
    (RFC 6749 §4.1.2.1: never redirect to an unverified URI)."""
    if error.redirect_uri:
        headers = dict(error()[2])
        return web.redirect(_with_iss(headers["Location"], _identity(request).issuer))
    return web.problem_page(request, 400, "This app's sign-in request cannot be accepted",
                            error.description or error.error or "invalid request")


def _consent_headers(redirect_uri: str) -> dict[str, str]:
    """The page CSP, letting the consent form's redirect go to the app (CSP form-action
    applies to the redirect after a form submission)."""
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    csp = web.PAGE_HEADERS["Content-Security-Policy"].replace(
        "form-action 'self'", f"form-action 'self' {origin}")
    return {"Content-Security-Policy": csp}


@router.get("/" + AUTH_PATH, include_in_schema=False)
async def authorize(request: Request) -> Response:
    items = request.query_params.multi_items()
    params = dict(items)
    if len(params) != len(items):
        return web.problem_page(request, 400, "This app's sign-in request cannot be accepted",
                                "A parameter is repeated (RFC 6749 §3.1).")
    identity = _identity(request)
    client = await app_client(request, params.get("client_id"))
    problem = clients(request).problems.get(params.get("client_id", ""))
    if client is None and problem:
        return web.problem_page(request, 400, "This app's Client ID Document cannot be used",
                                web.sentence(problem))
    call = Call(client=client)
    provider = identity.provider
    try:
        provider.run(call, provider.get_consent_grant,
                     oauth2_request("GET", identity.issuer + AUTH_PATH, request.headers, params))
    except OAuth2Error as error:
        return _refusal(request, error)
    session = await current_session(request)
    if session is None:
        return web.redirect(web.login_url(f"{request.url.path}?{request.url.query}"))
    if client is None:  # authlib refuses an unknown client above; this keeps mypy sure
        return web.problem_page(request, 400, "Unknown app", "The client is not known.")
    rt = request.app.state.runtime
    needs = [await consent_view.need(rt, session.account.name, n) for n in client.info.asks]
    pending = await keep_pending(_system(request), params, session.digest,
                                 consent_view.shown(client.info, needs).as_json())
    redirect_uri = params["redirect_uri"]
    scopes = client.get_allowed_scope(params.get("scope")).split()
    return await web.session_page(
        request, session, "oidc/consent.html", headers=_consent_headers(redirect_uri),
        client_name=client.info.client_name or urlsplit(redirect_uri).hostname,
        client_id=client.get_client_id(), redirect_host=urlsplit(redirect_uri).netloc,
        scopes=[(s, SCOPE_TEXT.get(s, s)) for s in scopes], pending=pending, needs=needs,
        agent_webid=client.info.agent_webid, declared=bool(client.info.needs))


@router.post("/" + AUTH_PATH, include_in_schema=False)
async def consent(request: Request) -> Response:
    svc = web.services(request)
    try:
        form = await web.read_form(request)
    except web.FormError as exc:
        return web.form_error(request, exc)
    session = await current_session(request)
    if session is None or not await svc.csrf.check_session(session.digest, form.get("csrf")):
        return web.forbidden(request)
    system = _system(request)
    taken = await take_pending(system, form.get("request", ""), session.digest)
    if taken is None:
        return web.problem_page(request, 400, "This sign-in request has expired",
                                "Go back to the app and sign in again.")
    params, shown = taken
    identity = _identity(request)
    provider = identity.provider
    client = await app_client(request, params.get("client_id"))
    call = Call(client=client)
    req = oauth2_request("GET", identity.issuer + AUTH_PATH, request.headers, params)
    user = session.account.webid if form.get("decision") == "allow" else None
    if user is not None and client is not None:
        try:
            seen = consent_view.Shown.from_json(shown)
            accepted = consent_view.accepted(seen, form)
        except ValueError as exc:
            return web.problem_page(request, 400, "This consent cannot be accepted", str(exc))
        made = await record(request.app.state.runtime, session.account.name, user, replace(
            client.info, agent_webid=seen.agent_webid, client_name=seen.client_name), accepted)
        if made and seen.webhook:
            await remember_webhook(system, made, seen.webhook)
    try:
        grant = provider.run(call, provider.get_consent_grant, req)
        _, body, headers = provider.run(call, provider.create_authorization_response,
                                        req, grant_user=user, grant=grant)
    except OAuth2Error as error:
        return _refusal(request, error)
    location = dict(headers).get("Location")
    if location is None:  # authlib refused without a redirect URI to tell
        return web.problem_page(request, 400, "This app's sign-in request cannot be accepted",
                                str(body))
    if not await commit(system, call):
        return web.problem_page(request, 409, "Please try again", "The code was not stored.")
    return web.redirect(_with_iss(location, identity.issuer))
