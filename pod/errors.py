"""The one exception tree of the server.

Every failure a client can cause is a :class:`PodError` subclass that carries its HTTP status
and an RFC 9457 problem type. Lower layers raise them; one renderer (``pod.problems``) turns
them into ``application/problem+json`` (or an HTML page for browsers). Nothing below the HTTP
edge imports a web framework.
"""

from __future__ import annotations

from vocab.terms import PROBLEMS

PROBLEM_BASE = PROBLEMS


class PodError(Exception):
    """Base of every client-visible error: ``status``, a short ``title`` and a ``detail``."""

    status: int = 500
    title: str = "Internal server error"
    slug: str = "internal"

    def __init__(self, detail: str = "", *, headers: dict[str, str] | None = None, **extra: object):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extra = extra

    @property
    def type(self) -> str:
        """The problem type URI (RFC 9457 §3.1.1)."""
        return PROBLEM_BASE + self.slug

    def __reduce__(self) -> tuple[object, ...]:
        """Pickle with headers and extras (errors raised in worker processes cross back)."""
        return _rebuild, (type(self), self.detail, self.headers, self.extra)


def _rebuild(cls: type[PodError], detail: str, headers: dict[str, str],
             extra: dict[str, object]) -> PodError:
    return cls(detail, headers=headers, **extra)


class BadRequest(PodError):
    status, title, slug = 400, "Bad request", "bad-request"


class InvalidSyntax(BadRequest):
    """A request body that does not parse; ``line`` and ``column`` say where when known."""

    title, slug = "Invalid syntax", "invalid-syntax"


class Unauthenticated(PodError):
    status, title, slug = 401, "Authentication required", "unauthenticated"


class Forbidden(PodError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(PodError):
    status, title, slug = 404, "Not found", "not-found"


class MethodNotAllowed(PodError):
    status, title, slug = 405, "Method not allowed", "method-not-allowed"


class NotAcceptable(PodError):
    status, title, slug = 406, "Not acceptable", "not-acceptable"


class Conflict(PodError):
    status, title, slug = 409, "Conflict", "conflict"


class RequestTimeout(PodError):
    """The request head or body did not arrive in time (RFC 9110 §15.5.9)."""

    status, title, slug = 408, "Request timeout", "request-timeout"


class PreconditionFailed(PodError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(PodError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(PodError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class HeadersTooLarge(PodError):
    """The request line and header fields are too large (RFC 6585 §5)."""

    status, title, slug = 431, "Request header fields too large", "headers-too-large"


class Unprocessable(PodError):
    status, title, slug = 422, "Unprocessable content", "unprocessable"


class TooCostly(Unprocessable):
    """A request whose processing would take more work than the server allows."""

    title, slug = "Too costly to process", "too-costly"


class ShapeViolation(Unprocessable):
    """Data written into a container registered for a class does not fit the class's SHACL
    shape; ``violations`` lists every failed constraint."""

    title, slug = "The data does not fit its shape", "shape-violation"


class UnverifiedStatement(Unprocessable):
    """A statement written into a container registered for signed statements whose Data
    Integrity proof does not verify; ``reasons`` says why, in words."""

    title, slug = "The statement's proof does not verify", "unverified-statement"


class ArchiveRefused(Unprocessable):
    """A pod archive that is damaged, foreign, hostile or does not fit here; nothing of it was
    written. The detail says what is wrong, in words."""

    title, slug = "The archive cannot be imported", "archive-refused"


class ServiceUnavailable(PodError):
    status, title, slug = 503, "Service unavailable", "unavailable"


class InsufficientStorage(PodError):
    """The server's storage is full (RFC 4918 §11.5): nothing of the request was written, and
    the same request may succeed once the operator frees space."""

    status, title, slug = 507, "Insufficient storage", "insufficient-storage"


class QuotaExceeded(InsufficientStorage):
    """A write that would take a pod beyond its quota of bytes or resources (RFC 4918 §11.5):
    nothing of it was written, and it may succeed once something is deleted."""

    title, slug = "Quota exceeded", "quota-exceeded"


class NotModified(PodError):
    """Not an error for the client: a conditional GET whose representation is unchanged."""

    status, title, slug = 304, "Not modified", "not-modified"


class StoreError(Exception):
    """A fault of the storage layer (corruption, wrong key): never the client's fault."""


class IntegrityError(StoreError):
    """A sealed value failed to open: tampered, moved, or sealed under another key."""


class VersionConflict(StoreError):
    """A conditional store write whose expected version no longer matches."""


class ConfigError(Exception):
    """Settings or keys are missing or wrong: the server refuses to start."""


def error_for_status(status: int, detail: str = "", headers: dict[str, str] | None = None
                     ) -> PodError:
    """The :class:`PodError` subclass for an HTTP status (for errors raised by the framework)."""
    pending: list[type[PodError]] = [PodError]
    while pending:
        cls = pending.pop()
        if cls.status == status:
            return cls(detail, headers=headers)
        pending.extend(cls.__subclasses__())
    error = PodError(detail, headers=headers)
    error.status = status
    return error
