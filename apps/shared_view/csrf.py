"""CSRF protection for the app's forms (double-submit cookie, OWASP CSRF cheat sheet): a
random token in an HttpOnly, SameSite=Lax cookie and in a hidden field of every form; a POST
whose field does not match its cookie (compared in constant time) is refused."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "sv_csrf"
FIELD = "csrf"


def token(request: Request) -> str:
    """The visitor's token (a new one when they have none yet)."""
    found = request.cookies.get(COOKIE)
    if found and 20 <= len(found) <= 100:
        return found
    made: str | None = getattr(request.state, "csrf", None)
    if made is None:
        made = secrets.token_urlsafe(32)
        request.state.csrf = made
    return made


def remember(request: Request, response: Response, value: str) -> None:
    """Set the token cookie when the visitor did not send it."""
    if request.cookies.get(COOKIE) != value:
        response.set_cookie(COOKIE, value, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", path="/")


def valid(request: Request, submitted: object) -> bool:
    """Whether a form's token matches the visitor's cookie."""
    cookie = request.cookies.get(COOKIE)
    return isinstance(submitted, str) and bool(cookie) and \
        secrets.compare_digest(submitted.encode(), (cookie or "").encode())
