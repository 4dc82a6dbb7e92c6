"""The one exception tree of the server.

Every failure a client can cause is a :class:`PodError` subclass that carries its HTTP status
and an RFC 9457 problem type. Lower layers raise them; one renderer (``pod.problems``) turns
them into ``application/problem+json`` (or an HTML page for browsers). Nothing below the HTTP
edge imports a web framework.
"""

from __future__ import annotations

PROBLEM_BASE = "https://commonpod.org/problems/"


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


class PreconditionFailed(PodError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(PodError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(PodError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class Unprocessable(PodError):
    status, title, slug = 422, "Unprocessable content", "unprocessable"


class ShapeViolation(Unprocessable):
    """Data written into a container registered for a class does not fit the class's SHACL
    shape; ``violations`` lists every failed constraint."""

    title, slug = "The data does not fit its shape", "shape-violation"


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
