"""Request bodies of the server's own endpoints, read within a cap.

Every route of the FastAPI side that reads a body reads it here: forms (account pages, consent,
the token endpoint) and JSON (client registration, the grants API). A body whose declared
``Content-Length`` is over the cap is refused before a byte of it is read; otherwise it is
streamed and refused as soon as it passes the cap, so a stranger's upload never costs more
memory than the cap. (The LDP edge has its own streaming reader, with the operator's limit.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request

from auth import untrusted_json
from pod.errors import PodError, error_for_status

FORM = "application/x-www-form-urlencoded"
#: forms: account pages, the consent form, token requests (RFC 6749 §3.2)
FORM_LIMIT = 64 * 1024
#: JSON: client registration (RFC 7591 §3.1), the grants API
JSON_LIMIT = 16 * 1024
#: fields in one form (the consent form has two per access need, at most 20 needs)
MAX_FIELDS = 100


class BodyError(Exception):
    """A body that is too large, of the wrong type, or does not parse; ``status`` is the
    HTTP status to answer (400, 413 or 415)."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status, self.detail = status, detail

    @property
    def headers(self) -> dict[str, str]:
        """For a body refused as too large, close the connection rather than drain the rest."""
        return {"Connection": "close"} if self.status == 413 else {}

    def problem(self) -> PodError:
        """The same refusal for an API client (RFC 9457 problem+json)."""
        return error_for_status(self.status, self.detail, self.headers)


def media_type(request: Request) -> str:
    """The request's media type, without parameters, in lower case ("" when none)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    too_large = BodyError(413, f"the request body exceeds this endpoint's limit of {limit} "
                               "bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large
    except ClientDisconnect:  # nobody is left to answer; nothing was done with the body
        raise BodyError(400, "the client left before its request body was complete") from None
    return bytes(body)


async def read_form(request: Request, limit: int = FORM_LIMIT) -> list[tuple[str, str]]:
    """The fields of a URL-encoded form, in order (parsed by the stdlib's ``parse_qsl``)."""
    kind = media_type(request)
    if kind not in (FORM, ""):
        raise BodyError(415, f"the body must be a form ({FORM})")
    body = await read_body(request, limit)
    if body and not kind:
        raise BodyError(415, f"the body must be a form ({FORM})")
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                         max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise BodyError(400, f"the form could not be read (at most {MAX_FIELDS} fields, "
                             "UTF-8)") from None


def single_values(fields: list[tuple[str, str]]) -> dict[str, str]:
    """The fields as a dict, refusing a repeated name (RFC 6749 §3.2: "MUST NOT be included
    more than once")."""
    found = dict(fields)
    if len(found) != len(fields):
        raise BodyError(400, "a parameter is repeated")
    return found


async def read_json(request: Request, limit: int = JSON_LIMIT) -> Any:
    """The value of a JSON body (strict JSON, bounded nesting: :mod:`auth.untrusted_json`)."""
    body = await read_body(request, limit)
    try:
        return untrusted_json.loads(body)
    except untrusted_json.JSONError as error:
        raise BodyError(400, str(error)) from None
