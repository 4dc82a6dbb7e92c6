"""Resource identifiers: pod names, canonical paths and auxiliary resources.

Every server path starts with ``/.`` (``/.well-known/``, and the account and UI paths to
come), and a pod name never starts with a dot, so the two can never collide (Solid Protocol
§4.1 leaves the URI space to the server). Paths are canonical: each segment percent-decoded and
re-encoded one way, so two spellings never name two resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from pod.errors import BadRequest

POD_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_POD_NAMES = frozenset({"static", "account", "accounts", "login", "logout", "admin",
                                "api", "oidc", "idp", "ui", "well-known", "favicon.ico"})
SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
ACL_SUFFIX, META_SUFFIX = ".acl", ".meta"
AUX_SUFFIXES = (ACL_SUFFIX, META_SUFFIX)


def check_pod_name(name: str) -> str:
    """Return ``name`` if it is a valid pod name: lowercase letters, digits and inner dashes."""
    if not POD_NAME.match(name):
        raise ValueError(
            f"pod name {name!r} is invalid: use 1-63 lowercase letters, digits and inner dashes"
        )
    if name in RESERVED_POD_NAMES:
        raise ValueError(f"pod name {name!r} is reserved")
    return name


def canonical_segment(raw: str) -> str:
    """One path segment, decoded once and re-encoded canonically."""
    try:
        text = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(f"invalid path segment {raw!r}: percent-escapes must be UTF-8") from None
    if text in ("", ".", "..") or "/" in text or any(ord(c) < 0x20 or c == "\x7f" for c in text):
        raise BadRequest(f"invalid path segment {raw!r}")
    return quote(text, safe=SEGMENT_SAFE)


@dataclass(frozen=True, slots=True)
class Target:
    """A resource in a pod: ``path`` is ``/`` for the root, ends in ``/`` for containers."""

    pod: str
    path: str

    @property
    def is_container(self) -> bool:
        return self.path.endswith("/")

    @property
    def is_root(self) -> bool:
        return self.path == "/"

    @property
    def parent(self) -> str | None:
        """The path of the container that holds this resource; ``None`` for the root."""
        if self.is_root:
            return None
        return self.path[: self.path.rstrip("/").rfind("/") + 1]

    @property
    def name(self) -> str:
        """The last segment, with the trailing slash of a container."""
        return self.path[len(self.parent or "") :]

    @property
    def aux(self) -> str | None:
        """``.acl`` or ``.meta`` when this is an auxiliary resource (Solid Protocol §4.3)."""
        if self.is_container:
            return None
        return next((s for s in AUX_SUFFIXES if self.path.endswith(s)), None)

    @property
    def subject(self) -> Target:
        """The resource an auxiliary resource describes (itself for ordinary resources)."""
        aux = self.aux
        return Target(self.pod, self.path[: -len(aux)]) if aux else self

    @property
    def twin(self) -> str:
        """The other spelling, with or without the trailing slash (``/x`` vs ``/x/``)."""
        return self.path[:-1] if self.is_container else self.path + "/"

    def with_path(self, path: str) -> Target:
        return Target(self.pod, path)

    def aux_path(self, suffix: str) -> str:
        return self.path + suffix

    def ancestors(self) -> list[str]:
        """Container paths from the root down to this resource's parent."""
        out, path = [], self.parent
        while path is not None:
            out.append(path)
            path = Target(self.pod, path).parent
        return out[::-1]


def parse_target(raw_path: str) -> Target:
    """Split a raw (still percent-encoded) URL path into pod name and canonical path."""
    if not raw_path.startswith("/"):
        raise BadRequest("the request target must be an absolute path")
    pod, _, rest = raw_path[1:].partition("/")
    try:
        check_pod_name(unquote(pod))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    if not _ and not rest:
        return Target(unquote(pod), "/")  # "/alice": the LDP edge redirects to "/alice/"
    segments = rest.split("/")
    trailing = segments[-1] == ""
    body = [canonical_segment(s) for s in (segments[:-1] if trailing else segments)]
    path = "/" + "/".join(body) + ("/" if trailing and body else "")
    for seg in body[:-1] if not trailing else body:
        if seg.endswith(AUX_SUFFIXES):
            raise BadRequest("a container name cannot end in .acl or .meta")
    return Target(unquote(pod), path)
