"""Conditional requests (RFC 9110 §13): ``If-Match`` and ``If-None-Match`` against strong ETags."""

from __future__ import annotations

from dataclasses import dataclass

from pod.errors import NotModified, PreconditionFailed
from pod.resources.records import Resource


def _tags(header: str | None) -> frozenset[str] | None:
    if header is None:
        return None
    return frozenset(t.strip().removeprefix("W/") for t in header.split(",") if t.strip())


@dataclass(frozen=True, slots=True)
class Conditions:
    """The preconditions of one request, checked against the current state in its transaction."""

    if_match: frozenset[str] | None = None
    if_none_match: frozenset[str] | None = None

    @classmethod
    def from_headers(cls, if_match: str | None, if_none_match: str | None) -> Conditions:
        return cls(_tags(if_match), _tags(if_none_match))

    def _matches(self, tags: frozenset[str], current: Resource | None) -> bool:
        if current is None:
            return False
        return "*" in tags or current.etag in tags

    def check_write(self, current: Resource | None) -> None:
        """412 when a write's precondition fails (RFC 9110 §13.2.2 steps 1 and 3)."""
        if self.if_match is not None and not self._matches(self.if_match, current):
            raise PreconditionFailed("If-Match does not match the current representation")
        if self.if_none_match is not None and self._matches(self.if_none_match, current):
            raise PreconditionFailed("If-None-Match matches the current representation")

    def check_read(self, current: Resource) -> None:
        """412 on a failed If-Match, 304 when If-None-Match matches (GET and HEAD)."""
        if self.if_match is not None and not self._matches(self.if_match, current):
            raise PreconditionFailed("If-Match does not match the current representation")
        if self.if_none_match is not None and self._matches(self.if_none_match, current):
            raise NotModified(headers={"ETag": current.etag})
