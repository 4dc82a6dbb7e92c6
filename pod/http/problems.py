"""The one place errors become responses: RFC 9457 problem+json, or a page for browsers."""

from __future__ import annotations

import json
import logging

from jinja2 import Environment

from pod.errors import PodError
from pod.http.exchange import Reply
from pod.negotiation import prefers_html

log = logging.getLogger("commonpod")
PROBLEM_JSON = "application/problem+json"


class InternalError(PodError):
    """Anything unexpected: the client sees no detail, the log gets the traceback."""


def render(error: PodError, accept: str | None, templates: Environment | None) -> Reply:
    """A reply for ``error``, in the form the client prefers."""
    headers = dict(error.headers)
    if error.status == 304:
        return Reply(304, headers)
    body = {"type": error.type, "title": error.title, "status": error.status,
            "detail": error.detail}
    body.update({k: v for k, v in error.extra.items() if v is not None})
    if templates is not None and prefers_html(accept):
        page = templates.get_template("errors/problem.html").render(problem=body)
        headers["Content-Type"] = "text/html; charset=utf-8"
        return Reply(error.status, headers, page.encode())
    headers["Content-Type"] = PROBLEM_JSON
    return Reply(error.status, headers, json.dumps(body).encode())


def unexpected(exc: BaseException, accept: str | None, templates: Environment | None) -> Reply:
    """Log an unexpected exception with its traceback and answer a bare 500."""
    log.error("unhandled error: %s", type(exc).__name__, exc_info=exc)
    return render(InternalError("the server failed to handle this request"), accept, templates)
