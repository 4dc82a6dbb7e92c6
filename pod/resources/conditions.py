"""Conditional requests (RFC 9110 §13): ``If-Match`` and ``If-None-Match`` against strong ETags."""

from __future__ import annotations

from dataclasses import dataclass

from pod.errors import NotModified, PreconditionFailed
from pod.resources.records import Resource


def _tags(header: str | None, *, weak: bool) -> frozenset[str] | None:
    """The entity tags of a header; ``weak`` comparison (RFC 9110 §8.8.3.2) drops ``W/``."""
    if header is None:
        return None
    tags = (t.strip() for t in header.split(","))
    return frozenset(t.removeprefix("W/") if weak else t for t in tags if t)


@dataclass(frozen=True, slots=True)
class Conditions:
    """The preconditions of one request, checked against the current state in its transaction."""

    if_match: frozenset[str] | None = None
    if_none_match: frozenset[str] | None = None

    @classmethod
    def from_headers(cls, if_match: str | None, if_none_match: str | None) -> Conditions:
        return cls(_tags(if_match, weak=False), _tags(if_none_match, weak=True))

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
