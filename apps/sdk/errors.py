"""The SDK's errors: one small tree, so an app catches exactly what it can handle.

``SdkError``
  ``TransportError`` — the server could not be reached or did not answer in time
  ``InvalidResponse`` — an answer the SDK cannot use (not the JSON or RDF it must be)
  ``ProblemError`` — an HTTP error answer, read from its RFC 9457 problem details
    ``BadRequest`` (400), ``Unauthenticated`` (401), ``Forbidden`` (403), ``NotFound`` (404),
    ``Conflict`` (409), ``PreconditionFailed`` (412), ``PayloadTooLarge`` (413),
    ``Unprocessable`` (422; ``ShapeViolation``, ``UnverifiedStatement``), ``TooManyRequests``
    (429), ``ServerError`` (5xx; ``ServiceUnavailable``), ``InsufficientStorage`` (507)
  ``OAuthError`` — an RFC 6749 §5.2 error from a token or registration endpoint
  ``LoginError`` — a sign-in that cannot be finished (state, issuer, ID token, denied)
  ``EventError`` — a webhook event that does not verify

Invalid arguments (a malformed access need, a relative IRI in a record) are ``ValueError``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from vocab.terms import PROBLEMS

PROBLEM_BASE = PROBLEMS
PROBLEM_JSON = "application/problem+json"


class SdkError(Exception):
    """Base of every error the SDK raises about the network or a server's answer."""


class TransportError(SdkError):
    """The server could not be reached, or did not answer in time (``url`` says which)."""

    def __init__(self, message: str, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class InvalidResponse(SdkError):
    """An answer that is not what the protocol says it must be."""


class ProblemError(SdkError):
    """An HTTP error answer. ``status``, ``type``, ``title`` and ``detail`` come from the RFC
    9457 problem details when the server sent them (Commonpod always does); ``violations``
    (shape violations) and ``reasons`` (statements that do not verify) when present; any other
    member in ``extra``."""

    status_code: int = 0

    def __init__(self, status: int, *, type: str = "about:blank", title: str = "",
                 detail: str = "", url: str = "", method: str = "",
                 violations: list[dict[str, Any]] | None = None,
                 reasons: list[str] | None = None, retry_after: float | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {title or 'error'}: {detail}" if detail else
                         f"{status} {title or 'error'} ({method} {url})")
        self.status, self.type, self.title, self.detail = status, type, title, detail
        self.url, self.method = url, method
        self.violations = violations or []
        self.reasons = reasons or []
        #: seconds the server asked to wait before trying again (``Retry-After``), if it did
        self.retry_after = retry_after
        self.extra = extra or {}


class BadRequest(ProblemError):
    status_code = 400


class Unauthenticated(ProblemError):
    status_code = 401


class Forbidden(ProblemError):
    status_code = 403


class NotFound(ProblemError):
    status_code = 404


class Conflict(ProblemError):
    status_code = 409


class PreconditionFailed(ProblemError):
    """An ``If-Match`` / ``If-None-Match`` that did not hold: someone changed it meanwhile."""

    status_code = 412


class PayloadTooLarge(ProblemError):
    status_code = 413


class Unprocessable(ProblemError):
    status_code = 422


class ShapeViolation(Unprocessable):
    """Data that does not fit its class's shape; ``violations`` lists every failed constraint."""


class UnverifiedStatement(Unprocessable):
    """A statement whose proof does not verify; ``reasons`` says why."""


class TooManyRequests(ProblemError):
    status_code = 429


class ServerError(ProblemError):
    status_code = 500


class ServiceUnavailable(ServerError):
    status_code = 503


class InsufficientStorage(ProblemError):
    """The server's disk, or the pod's quota, is full: nothing was written."""

    status_code = 507


class OAuthError(SdkError):
    """An OAuth 2.0 error answer (RFC 6749 §5.2, RFC 7591 §3.2.2): ``error`` and
    ``description``."""

    def __init__(self, status: int, error: str, description: str = "",
                 retry_after: float | None = None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.status, self.error, self.description = status, error, description
        self.retry_after = retry_after


class LoginError(SdkError):
    """A sign-in that cannot be finished; the message says why."""


class EventError(SdkError):
    """A webhook event that is not a valid, verified grant event; the message says why."""


_BY_STATUS: dict[int, type[ProblemError]] = {
    cls.status_code: cls for cls in (BadRequest, Unauthenticated, Forbidden, NotFound, Conflict,
                                     PreconditionFailed, PayloadTooLarge, Unprocessable,
                                     TooManyRequests, ServerError, ServiceUnavailable,
                                     InsufficientStorage)}
_BY_TYPE: dict[str, type[ProblemError]] = {
    PROBLEM_BASE + "shape-violation": ShapeViolation,
    PROBLEM_BASE + "unverified-statement": UnverifiedStatement,
}


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (RFC 9110 §10.2.3: seconds or an HTTP date)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date = response.headers.get("date")
    try:
        now = parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError):
        now = None
    if now is None:
        now = datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def _problem_body(response: httpx.Response) -> dict[str, Any]:
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in (PROBLEM_JSON, "application/json"):
        return {}
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def problem(response: httpx.Response) -> ProblemError:
    """The error an HTTP error answer means, with its problem details (RFC 9457 §3)."""
    body = _problem_body(response)
    status = response.status_code
    kind = found if isinstance(found := body.get("type"), str) else "about:blank"
    cls = _BY_TYPE.get(kind) or _BY_STATUS.get(status) or (
        ServerError if status >= 500 else ProblemError)
    detail = body.get("detail")
    if not isinstance(detail, str):
        detail = "" if body else response.text[:500].strip()
    known = {"type", "title", "status", "detail", "violations", "reasons"}
    violations = body.get("violations")
    reasons = body.get("reasons")
    return cls(status, type=kind, title=str(body.get("title") or response.reason_phrase),
               detail=detail, url=str(response.request.url), method=response.request.method,
               violations=violations if isinstance(violations, list) else None,
               reasons=reasons if isinstance(reasons, list) else None,
               retry_after=retry_after(response),
               extra={k: v for k, v in body.items() if k not in known})


def oauth_error(response: httpx.Response) -> OAuthError:
    """The error of an OAuth endpoint's answer (RFC 6749 §5.2)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    error = found if isinstance(found := body.get("error"), str) else \
        f"http_{response.status_code}"
    description = body.get("error_description")
    return OAuthError(response.status_code, error,
                      description if isinstance(description, str) else "",
                      retry_after(response))
