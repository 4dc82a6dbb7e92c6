"""Which member has earned which badge (pure: no I/O).

A badge (``apps.rules.model.Badge``) is earned by ``count`` contributions of its ``kind`` dated
within ``window_days`` before the issuance time; the evidence is exactly those contributions.
One credential per member, badge and rules version: its id is derived from the four, so
running the issuance again finds what it issued before.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from apps.rules.model import Badge
from apps.sdk import Contribution


@dataclass(frozen=True)
class Evidence:
    """A contribution that counted: its IRI in the member's pod and its name."""

    iri: str
    name: str
    at: datetime


@dataclass(frozen=True)
class Award:
    """A badge a member has earned under a rules version, with the contributions that met it."""

    member: str
    badge: Badge
    version: int
    evidence: tuple[Evidence, ...]


def _moment(value: datetime | date | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def dated(contribution: Contribution) -> datetime | None:
    """When a contribution happened: ``when``, else the end of its period."""
    return _moment(contribution.when) or _moment(contribution.end)


def meets(badge: Badge, contributions: Iterable[Contribution], now: datetime
          ) -> tuple[Evidence, ...] | None:
    """The contributions that earn ``badge`` at ``now`` (all of its kind within its window,
    oldest first), or ``None`` when there are fewer than it asks."""
    since = now - timedelta(days=badge.window_days)
    found = []
    for c in contributions:
        at = dated(c)
        if c.id is None or at is None or badge.kind not in c.kinds or not since <= at <= now:
            continue
        found.append(Evidence(c.id, c.name, at))
    if len(found) < badge.count:
        return None
    return tuple(sorted(found, key=lambda e: (e.at, e.iri)))


def awards(badges: Sequence[Badge], version: int,
           contributions: Mapping[str, Sequence[Contribution]], now: datetime) -> list[Award]:
    """Every badge each member (WebID → their contributions) has earned at ``now``, in member
    then badge order."""
    found = []
    for member in sorted(contributions):
        for badge in badges:
            evidence = meets(badge, contributions[member], now)
            if evidence is not None:
                found.append(Award(member, badge, version, evidence))
    return found


def credential_id(community: str, member: str, slug: str, version: int) -> str:
    """The one credential id of a member's badge under a rules version (a name-based UUID,
    RFC 9562 §5.5, of the four)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL,
                                        f"{community} {member} {slug} {version}"))


def document_name(credential: str, slug: str, version: int) -> str:
    """The name the credential's document is given in the member's ``rewards/`` container."""
    digest = hashlib.sha256(credential.encode()).hexdigest()[:12]
    return f"badge-{slug}-v{version}-{digest}"
