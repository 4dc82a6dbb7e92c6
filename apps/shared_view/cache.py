"""What the app remembers of each member's contributions between refreshes — in memory only,
and only what the figures need: for each contribution, the tracked projects it is in scope
of, its kinds among the eight of the vocabulary, and its month. No names, descriptions,
evidence or exact times. :meth:`MemberCache.forget` deletes everything held of a member."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from apps.sdk import Contribution
from vocab.namespaces import iri_of
from vocab.terms import CP

#: the eight contribution kinds of the vocabulary (cp:ContributionKinds), in its order
KINDS: tuple[str, ...] = tuple(iri_of(k) for k in (
    CP.Code, CP.Documentation, CP.Design, CP.Translation, CP.Mentoring, CP.Moderation,
    CP.EventOrganising, CP.CareWork))


@dataclass(frozen=True)
class Fact:
    """One contribution, reduced to what the figures count."""

    projects: tuple[str, ...]
    kinds: tuple[str, ...]
    month: str | None  # "YYYY-MM"


def month_of(contribution: Contribution) -> str | None:
    """The month a contribution happened in (its point in time, else its beginning)."""
    when: datetime | date | None = contribution.when or contribution.beginning
    return f"{when.year:04d}-{when.month:02d}" if when is not None else None


def facts_of(contributions: Iterable[Contribution], projects: frozenset[str]) -> list[Fact]:
    """The facts of the contributions in scope of a tracked project (all of them when the
    community tracks none); the rest are not kept at all."""
    found = []
    for c in contributions:
        scoped = tuple(p for p in c.in_scope_of if not projects or p in projects)
        if not scoped:
            continue
        found.append(Fact(scoped, tuple(k for k in c.kinds if k in KINDS), month_of(c)))
    return found


class MemberCache:
    """Facts by member WebID."""

    def __init__(self) -> None:
        self._facts: dict[str, list[Fact]] = {}

    def put(self, webid: str, facts: list[Fact]) -> None:
        self._facts[webid] = facts

    def forget(self, webid: str) -> None:
        """Delete everything held of ``webid``."""
        self._facts.pop(webid, None)

    def keep_only(self, webids: Iterable[str]) -> None:
        """Forget everyone not in ``webids``."""
        keep = set(webids)
        for webid in [w for w in self._facts if w not in keep]:
            del self._facts[webid]

    def of(self, webid: str) -> list[Fact] | None:
        """What is held of ``webid`` (``None``: nothing)."""
        return self._facts.get(webid)

    def holds(self, webid: str) -> bool:
        return webid in self._facts

    def items(self) -> list[tuple[str, list[Fact]]]:
        return list(self._facts.items())

    def __len__(self) -> int:
        return len(self._facts)
