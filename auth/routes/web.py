"""What every account page shares: the services, form reading, safe redirects, rendering.

Pages are server-rendered and work without JavaScript; every answer carries headers that keep
them out of caches and frames. Forms are ``application/x-www-form-urlencoded`` and small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from auth import csrf
from auth.accounts import Accounts
from auth.passwords import Passwords
from auth.ratelimit import SignInLimits
from auth.sessions import Session, Sessions, current_session
from pod.access.decide import CHALLENGE
from pod.errors import Forbidden, Unauthenticated
from pod.settings import Settings

if TYPE_CHECKING:
    from pod.runtime import Runtime

ACCOUNT_PAGE = "/.account/"
LOGIN_PAGE = "/.account/login"
FORM_LIMIT = 16 * 1024
MAX_FIELDS = 20
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass
class Services:
    """The account machinery of one running server (one per runtime)."""

    runtime: Runtime
    settings: Settings
    accounts: Accounts
    sessions: Sessions
    csrf: csrf.Csrf
    limits: SignInLimits


def services(request: Request) -> Services:
    """The services of the app serving ``request``, made on first use."""
    state = request.app.state
    rt: Runtime = state.runtime
    found: Services | None = getattr(state, "account_services", None)
    if found is None or found.runtime is not rt:
        accounts = Accounts(rt.system, rt.pods, rt.resources, Passwords())
        found = Services(rt, rt.settings, accounts, Sessions(rt.system),
                         csrf.Csrf(rt.system, secure=rt.settings.secure_cookies), SignInLimits())
        state.account_services = found
    return found


class FormError(Exception):
    """A request body that is not a small URL-encoded form."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail


async def read_form(request: Request) -> dict[str, str]:
    """The fields of a URL-encoded form (first value of each), read up to :data:`FORM_LIMIT`."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", ""):
        raise FormError(415, "This page accepts only forms sent by a browser.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > FORM_LIMIT:
        raise FormError(413, "The form is too large.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise FormError(413, "The form is too large.")
    if body and not kind:
        raise FormError(415, "This page accepts only forms sent by a browser.")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise FormError(400, "The form could not be read.") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


def safe_return_to(value: str | None, default: str = ACCOUNT_PAGE) -> str:
    """``value`` if it is a path on this server (``/…``, not ``//…``), else ``default``."""
    if (not value or len(value) > 2048 or not value.isascii() or not value.startswith("/")
            or value.startswith("//") or "\\" in value
            or any(c <= " " or c == "\x7f" for c in value)):
        return default
    parts = urlsplit(value)
    return default if parts.scheme or parts.netloc else value


def sentence(message: str) -> str:
    """An error message as a sentence for a page."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def login_url(return_to: str) -> str:
    return LOGIN_PAGE + "?" + urlencode({"return_to": return_to})


def redirect(location: str) -> RedirectResponse:
    """A 303 See Other (the answer to every successful POST)."""
    return RedirectResponse(location, status_code=303, headers=PAGE_HEADERS)


def page(request: Request, template: str, status: int = 200,
         headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """An HTML page from ``templates/``; ``context`` goes to the template."""
    env = request.app.state.templates
    html = env.get_template(template).render(base_url=services(request).settings.base_url,
                                             **context)
    return HTMLResponse(html, status, headers={**PAGE_HEADERS, **(headers or {})})


def problem_page(request: Request, status: int, title: str, detail: str,
                 headers: dict[str, str] | None = None) -> HTMLResponse:
    """An error page (the forms are for browsers, so always HTML)."""
    problem = {"status": status, "title": title, "detail": detail}
    return page(request, "errors/problem.html", status, headers, problem=problem)


def forbidden(request: Request) -> HTMLResponse:
    return problem_page(request, 403, "This form cannot be accepted",
                        "The form has expired or was not sent from this site. Go back, reload "
                        "the page and try again (cookies must be enabled to sign in).")


def form_error(request: Request, error: FormError) -> HTMLResponse:
    return problem_page(request, error.status, "The form could not be accepted", error.detail)


async def visitor_page(request: Request, template: str, status: int = 200,
                       headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """A page with a form for visitors (not signed in): its CSRF token is bound to the
    ``cp_csrf`` cookie, which is set here when the browser has none."""
    svc = services(request)
    nonce = csrf.visitor_nonce(request)
    fresh = nonce is None
    nonce = nonce or csrf.new_nonce()
    token = await svc.csrf.for_visitor(nonce)
    response = page(request, template, status, headers, csrf=token, **context)
    if fresh:
        svc.csrf.set_cookie(response, nonce)
    return response


async def session_page(request: Request, session: Session, template: str, status: int = 200,
                       headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """A page for a signed-in browser: its forms' CSRF token is bound to the session."""
    token = await services(request).csrf.for_session(session.digest)
    return page(request, template, status, headers, csrf=token, account=session.account,
                **context)


def client_host(request: Request) -> str | None:
    return request.client.host if request.client else None


def no_session(request: Request) -> Response:
    """Where a page that needs a session sends a browser without one."""
    return redirect(login_url(request.url.path))


async def visitor_form(request: Request) -> dict[str, str] | Response:
    """The form of a POST from a visitor (sign-up, login), or the response refusing it."""
    try:
        form = await read_form(request)
    except FormError as exc:
        return form_error(request, exc)
    if not await services(request).csrf.check_visitor(request, form.get("csrf")):
        return forbidden(request)
    return form


async def session_form(request: Request) -> tuple[Session, dict[str, str]] | Response:
    """The session and form of a POST from a signed-in browser, or the response refusing it."""
    try:
        form = await read_form(request)
    except FormError as exc:
        return form_error(request, exc)
    session = await current_session(request)
    if session is None:
        return no_session(request)
    if not await services(request).csrf.check_session(session.digest, form.get("csrf")):
        return forbidden(request)
    return session, form


async def owner_only(request: Request, pod: str, forbidden: str) -> None:
    """Refuse an API call unless it comes from the pod's owner acting directly (their own
    credentials, never an app): 401 without credentials, 403 with ``forbidden`` otherwise."""
    rt: Runtime = request.app.state.runtime
    agent = await request.app.state.identity.authenticator.agent(
        request.method, rt.settings.base_url + request.url.path[1:], dict(request.headers))
    if not agent.authenticated:
        raise Unauthenticated("the pod owner's credentials are needed",
                              headers={"WWW-Authenticate": CHALLENGE})
    if agent.webid != rt.access.owner(pod) or agent.app is not None:
        raise Forbidden(forbidden)
