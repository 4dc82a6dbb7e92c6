"""The community's rules as values (pure: no I/O).

One :class:`Rules` is one version of the rules document the members govern: points per
contribution kind and per hour of effort, the weight of appreciations and endorsements, the
badges and their thresholds, the reputation method and its parameters, and the quorum a change
needs. Versions are numbered from 1 and every one is kept (see ``apps.rules.store``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from vocab.namespaces import iri_of
from vocab.terms import CP

PAGERANK, POINTS = "pagerank", "points"
METHODS = (PAGERANK, POINTS)

#: the eight contribution kinds of the vocabulary (cp:ContributionKinds), in its order
KINDS: tuple[str, ...] = tuple(iri_of(k) for k in (
    CP.Code, CP.Documentation, CP.Design, CP.Translation, CP.Mentoring, CP.Moderation,
    CP.EventOrganising, CP.CareWork))


@dataclass(frozen=True)
class Badge:
    """A badge the rules define: ``count`` contributions of ``kind`` within ``window_days``."""

    slug: str  # "mentor": stable; part of the achievement id
    name: str  # "Mentor"
    description: str
    kind: str  # contribution kind IRI (one of KINDS)
    count: int  # contributions of that kind needed ...
    window_days: int  # ... within this many days before the issuance time (365 = 12 months)

    def __post_init__(self) -> None:
        if not self.slug.replace("-", "").isalnum() or self.slug != self.slug.lower():
            raise ValueError(f"a badge's slug is lower-case letters, digits and '-': {self.slug!r}")
        if not self.name.strip():
            raise ValueError("a badge needs a name")
        if self.kind not in KINDS:
            raise ValueError(f"{self.kind} is not a contribution kind of the vocabulary")
        if self.count < 1 or self.window_days < 1:
            raise ValueError("a badge needs at least one contribution within at least one day")


@dataclass(frozen=True)
class Rules:
    """One version of the community's rules."""

    version: int  # 1, 2, ...: every version is kept
    iri: str  # the URL of this version's document in the community pod
    points: Mapping[str, Decimal]  # contribution kind IRI -> points per contribution
    points_per_hour: Decimal  # extra points per hour of effort where given
    appreciation_weight: Decimal
    endorsement_weight: Decimal
    badges: tuple[Badge, ...]
    method: str  # "pagerank" (SourceCred-like flow) or "points"
    damping: Decimal  # PageRank alpha, e.g. 0.85
    quorum: int  # approvals a change needs to take effect

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ValueError("rules versions are numbered from 1")
        unknown = set(self.points) - set(KINDS)
        if unknown:
            raise ValueError(f"not contribution kinds of the vocabulary: {sorted(unknown)}")
        numbers = [*self.points.values(), self.points_per_hour, self.appreciation_weight,
                   self.endorsement_weight]
        if any(not n.is_finite() or n < 0 for n in numbers):
            raise ValueError("points and weights are finite and never negative")
        if self.method not in METHODS:
            raise ValueError(f"the method is one of {', '.join(METHODS)}, not {self.method!r}")
        if not (Decimal(0) < self.damping < Decimal(1)):
            raise ValueError("the damping factor lies strictly between 0 and 1")
        if self.quorum < 1:
            raise ValueError("a change needs at least one approval")
        slugs = [b.slug for b in self.badges]
        if len(set(slugs)) != len(slugs):
            raise ValueError("two badges share a slug")
        # badges by slug, points as a read-only copy in the vocabulary's order: equal rules
        # compare equal however they were written
        object.__setattr__(self, "badges", tuple(sorted(self.badges, key=lambda b: b.slug)))
        ordered = {k: self.points[k] for k in KINDS if k in self.points}
        object.__setattr__(self, "points", MappingProxyType(ordered))

    def __hash__(self) -> int:  # the points mapping is unhashable; a version is its IRI
        return hash((self.version, self.iri))

    def points_for(self, kind: str | None) -> Decimal:
        """Points per contribution of ``kind`` (0 for a kind the rules do not name)."""
        return self.points.get(kind, Decimal(0)) if kind is not None else Decimal(0)


def default_rules(iri: str = "") -> Rules:
    """Version 1, written at the app's first start (``iri``: where it is stored)."""
    points = {iri_of(CP.Code): Decimal(3), iri_of(CP.Documentation): Decimal(2),
              iri_of(CP.Design): Decimal(3), iri_of(CP.Translation): Decimal(2),
              iri_of(CP.Mentoring): Decimal(3), iri_of(CP.Moderation): Decimal(2),
              iri_of(CP.EventOrganising): Decimal(3), iri_of(CP.CareWork): Decimal(3)}
    badges = (
        Badge("mentor", "Mentor", "Ten mentoring contributions in twelve months.",
              iri_of(CP.Mentoring), 10, 365),
        Badge("translator", "Translator", "Five translations in twelve months.",
              iri_of(CP.Translation), 5, 365),
        Badge("organiser", "Organiser", "Three events organised in twelve months.",
              iri_of(CP.EventOrganising), 3, 365),
    )
    return Rules(version=1, iri=iri, points=points, points_per_hour=Decimal(1),
                 appreciation_weight=Decimal(1), endorsement_weight=Decimal(2), badges=badges,
                 method=PAGERANK, damping=Decimal("0.85"), quorum=2)
