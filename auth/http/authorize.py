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

import re
from dataclasses import replace

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.consent import remember_webhook
from auth.http import consent_view, web
from auth.http.deps import (
    ClientsDep,
    ConsentDep,
    CookiesDep,
    CsrfDep,
    IdentityDep,
    NamesDep,
    PagesDep,
)
from auth.http.web import Pages
from auth.oidc.client_metadata import ClientError, origin
from auth.oidc.clients import Clients
from auth.oidc.grants import AppClient, Call
from auth.oidc.provider import oauth2_request
from auth.oidc.records import commit, keep_pending, take_pending
from pod.deps import PodsDep, SystemDep

router = APIRouter()
AUTH_PATH = ".oidc/auth"
SCOPE_TEXT = {
    "openid": "Confirm that you are signed in here",
    "webid": "Use your WebID to read and write what you may read and write in Solid pods",
    "offline_access": "Keep this access while you are away (refresh tokens)",
}

_NQCHAR = r"[\x21\x23-\x5b\x5d-\x7e]"
#: the grammars of the request parameters authlib reads (RFC 6749 Appendix A, RFC 7636 §4.2),
#: with where they are given; authlib quotes some values in its error descriptions, which may
#: not hold every character, so a value outside its grammar is refused before authlib runs
GRAMMARS = {
    "client_id": (re.compile(r"[\x20-\x7e]+"), "RFC 6749 Appendix A.1"),
    "response_type": (re.compile(r"[A-Za-z0-9_]+(?: [A-Za-z0-9_]+)*"), "RFC 6749 Appendix A.3"),
    "scope": (re.compile(rf"{_NQCHAR}+(?: {_NQCHAR}+)*"), "RFC 6749 Appendix A.4"),
    "state": (re.compile(r"[\x20-\x7e]+"), "RFC 6749 Appendix A.5"),
    # A.6: a URI reference, so only the characters RFC 3986 §2 allows in one
    "redirect_uri": (re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+"),
                     "RFC 6749 Appendix A.6"),
    "code_challenge": (re.compile(r"[A-Za-z0-9._~-]{43,128}"), "RFC 7636 §4.2"),
}


def malformed(params: dict[str, str]) -> str | None:
    """What is wrong with the first parameter outside its grammar, or None."""
    for name, (grammar, where) in GRAMMARS.items():
        value = params.get(name)
        if value and not grammar.fullmatch(value):
            return f"The {name} parameter is not written as {where} defines it."
    return None


async def app_client(clients: Clients, client_id: str | None) -> AppClient | None:
    info = await clients.find(client_id) if client_id else None
    return AppClient(info) if info else None


def _with_iss(location: str, issuer: str) -> str:
    return add_params_to_uri(location, [("iss", issuer)])  # RFC 9207 §2


def _refusal(pages: Pages, issuer: str, error: OAuth2Error) -> Response:
    """To the client's (validated) redirect URI when there is one, else an error page
    (RFC 6749 §4.1.2.1: never redirect to an unverified URI)."""
    if error.redirect_uri:
        headers = dict(error()[2])
        return web.redirect(_with_iss(headers["Location"], issuer))
    return pages.problem_page(400, "This app's sign-in request cannot be accepted",
                              error.description or error.error or "invalid request")


def _consent_headers(app_origin: str) -> dict[str, str]:
    """The page CSP, letting the consent form's redirect go to the app (CSP form-action
    applies to the redirect after a form submission). ``app_origin`` is a serialised origin
    (:func:`auth.oidc.client_metadata.origin`), never text taken from the request."""
    csp = web.PAGE_HEADERS["Content-Security-Policy"].replace(
        "form-action 'self'", f"form-action 'self' {app_origin}")
    return {"Content-Security-Policy": csp}


@router.get("/" + AUTH_PATH, include_in_schema=False)
async def authorize(request: Request, identity: IdentityDep, clients: ClientsDep,
                    pages: PagesDep, cookies: CookiesDep, consents: ConsentDep,
                    system: SystemDep, names: NamesDep) -> Response:
    items = request.query_params.multi_items()
    params = dict(items)
    if len(params) != len(items):
        return pages.problem_page(400, "This app's sign-in request cannot be accepted",
                                  "A parameter is repeated (RFC 6749 §3.1).")
    client = await app_client(clients, params.get("client_id"))
    problem = clients.problems.get(params.get("client_id", ""))
    if client is None and problem:
        return pages.problem_page(400, "This app cannot be used", web.sentence(problem))
    if wrong := malformed(params):
        return pages.problem_page(400, "This app's sign-in request cannot be accepted", wrong)
    call = Call(client=client)
    provider = identity.provider
    try:
        provider.run(call, provider.get_consent_grant,
                     oauth2_request("GET", identity.issuer + AUTH_PATH, request.headers, params))
    except OAuth2Error as error:
        return _refusal(pages, identity.issuer, error)
    session = await cookies.session(request)
    if session is None:
        return web.redirect(web.login_url(f"{request.url.path}?{request.url.query}"))
    if client is None:  # authlib refuses an unknown client above; this keeps mypy sure
        return pages.problem_page(400, "Unknown app", "The client is not known.")
    try:  # authlib matched a registered redirect URI, which was checked when registered
        app_origin = origin(params["redirect_uri"])
    except ClientError as error:
        return pages.problem_page(400, "This app cannot be used", web.sentence(str(error)))
    needs = [await consent_view.need(consents, session.account.name, n)
             for n in client.info.asks]
    pending = await keep_pending(system, params, session.digest,
                                 consent_view.shown(client.info, needs).as_json(),
                                 account=session.account.name)
    scopes = client.get_allowed_scope(params.get("scope")).split()
    app_host = app_origin.split("://", 1)[1]
    return await pages.session_page(
        session, "oidc/consent.html", headers=_consent_headers(app_origin),
        client_name=client.info.client_name or app_host,
        client_id=client.get_client_id(), redirect_host=app_host,
        scopes=[(s, SCOPE_TEXT.get(s, s)) for s in scopes], pending=pending, needs=needs,
        agent_webid=client.info.agent_webid, declared=bool(client.info.needs),
        names=await names.people([client.info.agent_webid]),
        client_url=client.get_client_id() if client.info.document else None)


@router.post("/" + AUTH_PATH, include_in_schema=False)
async def consent(request: Request, identity: IdentityDep, clients: ClientsDep,
                  pages: PagesDep, cookies: CookiesDep, csrf: CsrfDep, consents: ConsentDep,
                  system: SystemDep, pods: PodsDep) -> Response:
    try:
        form = await web.read_form(request)
    except web.FormError as exc:
        return pages.form_error(exc)
    session = await cookies.session(request)
    if session is None or not await csrf.check_session(session.digest, form.get("csrf")):
        return pages.forbidden()
    taken = await take_pending(system, form.get("request", ""), session.digest)
    if taken is None:
        return pages.problem_page(400, "This sign-in request has expired",
                                  "Go back to the app and sign in again.")
    params, shown = taken
    provider = identity.provider
    client = await app_client(clients, params.get("client_id"))
    keys = await pods.find(session.account.name)  # the code is bound to this pod instance
    call = Call(client=client, account=session.account.name,
                instance=keys.instance if keys else None)
    req = oauth2_request("GET", identity.issuer + AUTH_PATH, request.headers, params)
    user = session.account.webid if form.get("decision") == "allow" else None
    if user is not None and client is not None:
        try:
            seen = consent_view.Shown.from_json(shown)
            accepted = consent_view.accepted(seen, form)
        except ValueError as exc:
            return pages.problem_page(400, "This consent cannot be accepted", str(exc))
        made = await consents.record(session.account.name, user, replace(
            client.info, agent_webid=seen.agent_webid, client_name=seen.client_name), accepted)
        if made and seen.webhook:
            await remember_webhook(system, made, seen.webhook)
    try:
        grant = provider.run(call, provider.get_consent_grant, req)
        _, body, headers = provider.run(call, provider.create_authorization_response,
                                        req, grant_user=user, grant=grant)
    except OAuth2Error as error:
        return _refusal(pages, identity.issuer, error)
    location = dict(headers).get("Location")
    if location is None:  # authlib refused without a redirect URI to tell
        return pages.problem_page(400, "This app's sign-in request cannot be accepted",
                                  str(body))
    if not await commit(system, call):
        return pages.problem_page(409, "Please try again", "The code was not stored.")
    return web.redirect(_with_iss(location, identity.issuer))
