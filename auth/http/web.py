"""What every account page shares: rendering, form reading with its CSRF check, redirects.

Pages are server-rendered and work without JavaScript; every answer carries headers that keep
them out of caches and frames. Forms are ``application/x-www-form-urlencoded`` and small.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from auth.http import bodies, csrf
from auth.http.bodies import BodyError
from auth.http.cookies import Cookies
from auth.sessions import Session
from pod.store.directory import PodDirectory
from pod.store.sealed import PodKeys

FormError = BodyError  # the error the pages' forms raise (signin and authorize catch it here)

#: the account signed in on the request being answered (set by the session dependency,
#: auth/http/deps.py), so that pages rendered without the session at hand — error pages —
#: still show who is signed in and the navigation
signed_in: ContextVar[Any] = ContextVar("signed_in", default=None)

ACCOUNT_PAGE = "/.account/"
LOGIN_PAGE = "/.account/login"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
                               "img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def read_form(request: Request, limit: int = bodies.FORM_LIMIT) -> dict[str, str]:
    """The fields of a page's URL-encoded form (first value of each), read within ``limit``
    (the form cap of :mod:`auth.http.bodies` unless said); raises :class:`FormError`."""
    form: dict[str, str] = {}
    for key, value in await bodies.read_form(request, limit):
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


def no_session(request: Request) -> Response:
    """Where a page that needs a session sends a browser without one."""
    return redirect(login_url(request.url.path))


class Pages:
    """Renders the pages (``templates/``) and checks their forms: the CSRF token of a
    visitor's form is bound to the ``cp_csrf`` cookie, a signed-in browser's to its session."""

    def __init__(self, templates: Environment, base_url: str, csrf: csrf.Csrf,
                 cookies: Cookies):
        self.templates, self.base_url, self.csrf, self.cookies = (templates, base_url, csrf,
                                                                  cookies)

    def page(self, template: str, status: int = 200, headers: dict[str, str] | None = None,
             **context: Any) -> HTMLResponse:
        """An HTML page from ``templates/``; ``context`` goes to the template (with the
        signed-in account, unless it says otherwise)."""
        context.setdefault("account", signed_in.get())
        html = self.templates.get_template(template).render(base_url=self.base_url, **context)
        return HTMLResponse(html, status, headers={**PAGE_HEADERS, **(headers or {})})

    def problem_page(self, status: int, title: str, detail: str,
                     headers: dict[str, str] | None = None) -> HTMLResponse:
        """An error page (the forms are for browsers, so always HTML)."""
        problem = {"status": status, "title": title, "detail": detail}
        return self.page("errors/problem.html", status, headers, problem=problem)

    async def pod_of(self, pods: PodDirectory, session: Session) -> PodKeys | HTMLResponse:
        """The signed-in owner's pod, or the page saying their account has none any more."""
        keys = await pods.find(session.account.name)
        if keys is None:
            return self.problem_page(404, "No pod", "This account has no pod any more.")
        return keys

    def forbidden(self) -> HTMLResponse:
        return self.problem_page(
            403, "This form cannot be accepted",
            "The form has expired or was not sent from this site. Go back, reload the page and "
            "try again (cookies must be enabled to sign in).")

    def form_error(self, error: FormError) -> HTMLResponse:
        return self.problem_page(error.status, "The form could not be accepted",
                                 sentence(error.detail), error.headers)

    async def visitor_page(self, request: Request, template: str, status: int = 200,
                           headers: dict[str, str] | None = None,
                           **context: Any) -> HTMLResponse:
        """A page with a form for visitors (not signed in): its CSRF token is bound to the
        ``cp_csrf`` cookie, which is set here when the browser has none."""
        nonce = csrf.visitor_nonce(request)
        fresh = nonce is None
        nonce = nonce or csrf.new_nonce()
        token = await self.csrf.for_visitor(nonce)
        response = self.page(template, status, headers, csrf=token, **context)
        if fresh:
            self.csrf.set_cookie(response, nonce)
        return response

    async def session_page(self, session: Session, template: str, status: int = 200,
                           headers: dict[str, str] | None = None,
                           **context: Any) -> HTMLResponse:
        """A page for a signed-in browser: its forms' CSRF token is bound to the session."""
        token = await self.csrf.for_session(session.digest)
        return self.page(template, status, headers, csrf=token, account=session.account,
                         **context)

    async def visitor_form(self, request: Request) -> dict[str, str] | Response:
        """The form of a POST from a visitor (sign-up, login), or the response refusing it."""
        try:
            form = await read_form(request)
        except FormError as exc:
            return self.form_error(exc)
        if not await self.csrf.check_visitor(request, form.get("csrf")):
            return self.forbidden()
        return form

    async def session_form(self, request: Request, limit: int = bodies.FORM_LIMIT
                           ) -> tuple[Session, dict[str, str]] | Response:
        """The session and form of a POST from a signed-in browser, or the response refusing
        it (the form is read first, within ``limit`` bytes, the session looked up after)."""
        try:
            form = await read_form(request, limit)
        except FormError as exc:
            return self.form_error(exc)
        session = await self.cookies.session(request)
        if session is None:
            return no_session(request)
        if not await self.csrf.check_session(session.digest, form.get("csrf")):
            return self.forbidden()
        return session, form
