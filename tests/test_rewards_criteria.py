"""The rewards app's pure parts: which badges members earned (apps/rewards/criteria.py), the
deterministic credential ids, and the ledger's JSON (apps/rewards/ledger.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from apps.rewards.criteria import awards, credential_id, document_name, meets
from apps.rewards.ledger import Entry, Ledger
from apps.rules.model import Badge, default_rules
from apps.sdk import Contribution
from vocab.namespaces import iri_of
from vocab.terms import CP

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
MENTORING, CODE = iri_of(CP.Mentoring), iri_of(CP.Code)
MENTOR = Badge("mentor", "Mentor", "Three mentoring contributions in thirty days.", MENTORING, 3,
               30)


def _c(n: int, kind: str, when: datetime | date, who: str = "ann") -> Contribution:
    return Contribution(provider=f"https://a.example/{who}/profile/card#me", name=f"c{n}",
                        in_scope_of=("https://p.example/#p",), kinds=(kind,), when=when,
                        id=f"https://a.example/{who}/contributions/c{n}#it")


def test_a_badge_needs_its_count_of_its_kind_within_its_window() -> None:
    inside = [_c(i, MENTORING, NOW - timedelta(days=i * 10)) for i in range(3)]  # 0, 10, 20
    assert meets(MENTOR, inside[:2], NOW) is None
    evidence = meets(MENTOR, inside, NOW)
    assert evidence is not None
    assert [e.iri for e in evidence] == [c.id for c in reversed(inside)]  # oldest first
    late = [*inside[:2], _c(9, MENTORING, NOW - timedelta(days=31))]
    assert meets(MENTOR, late, NOW) is None  # one is older than the window
    assert meets(MENTOR, [*inside[:2], _c(8, CODE, NOW)], NOW) is None  # another kind
    assert meets(MENTOR, [*inside[:2], _c(7, MENTORING, NOW + timedelta(days=1))], NOW) is None
    # a date counts as the start of its day (UTC); extra contributions are all evidence
    more = meets(MENTOR, [*inside, _c(5, MENTORING, date(2026, 5, 20))], NOW)
    assert more is not None and len(more) == 4


def test_awards_by_member_and_badge() -> None:
    rules = default_rules("https://c.example/riverside/rules/v1.ttl")
    organising = iri_of(CP.EventOrganising)
    found = awards(rules.badges, rules.version, {
        "https://b/ben#me": [_c(i, organising, NOW - timedelta(days=i), "ben") for i in range(3)],
        "https://a/amy#me": [_c(i, organising, NOW, "amy") for i in range(2)],
    }, NOW)
    assert [(a.member, a.badge.slug, a.version, len(a.evidence)) for a in found] == [
        ("https://b/ben#me", "organiser", 1, 3)]


def test_credential_ids_are_deterministic_and_distinct() -> None:
    one = credential_id("https://c#me", "https://m#me", "mentor", 1)
    assert one == credential_id("https://c#me", "https://m#me", "mentor", 1)
    assert one.startswith("urn:uuid:")
    others = {credential_id("https://c#me", "https://m#me", "mentor", 2),
              credential_id("https://c#me", "https://n#me", "mentor", 1),
              credential_id("https://c#me", "https://m#me", "organiser", 1)}
    assert one not in others and len(others) == 3
    name = document_name(one, "mentor", 1)
    assert name.startswith("badge-mentor-v1-") and name == document_name(one, "mentor", 1)


def test_ledger_round_trips_as_json() -> None:
    ledger = Ledger({"urn:uuid:1": Entry(
        member="https://m#me", badge="mentor", name="Mentor", description="d", criteria="c",
        version=1, rules="https://c/rules/v1.ttl", index=0, issued_at=NOW.isoformat(),
        container="https://m/rewards/", slug="badge-mentor-v1-x",
        evidence=[["https://m/c1#it", "c1"]])}, next_index=1)
    back = Ledger.from_json(ledger.to_json())
    assert back == ledger and back.revoked_indexes() == set()
    back.entries["urn:uuid:1"].state = "revoked"
    assert back.revoked_indexes() == {0}
