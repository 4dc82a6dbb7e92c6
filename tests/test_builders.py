"""Statement builders: a reward statement is exactly docs/vocabulary.md's Open Badge, a
reputation statement expands to exactly its Turtle; both sign and verify; bad input is refused
in words."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from apps.sdk.statements import cryptosuite as suite
from apps.sdk.statements import did_key, did_key_vm, public_key, sign, verify
from apps.sdk.statements.builders import reputation_statement, reward_statement

VOCABULARY = Path(__file__).parents[1] / "docs" / "vocabulary.md"
SEED = bytes(range(32))
NOW = datetime(2025, 6, 1, tzinfo=UTC)
RIVERSIDE = "https://pods.example/riverside/profile/card#me"
AMARA = "https://pods.example/amara/profile/card#me"
APRIL = datetime(2025, 4, 1, tzinfo=UTC)


def section(title: str, language: str) -> str:
    text = VOCABULARY.read_text(encoding="utf-8")
    part = text[text.index(f"## {title}"):]
    found = re.search(rf"```{language}\n(.*?)```", part, re.S)
    assert found, f"no {language} block under {title}"
    return found.group(1)


def reward(**change: Any) -> dict[str, Any]:
    """The reward statement of docs/vocabulary.md, built."""
    args: dict[str, Any] = {
        "issuer": RIVERSIDE, "issuer_name": "Riverside Repair Café", "subject": AMARA,
        "achievement_id": "https://pods.example/riverside/badges/community-carer#achievement",
        "name": "Community carer",
        "description": "Looked after the people who keep the repair café going.",
        "criteria": "At least three months of recorded care work for the repair café, "
                    "appreciated by other members.",
        "evidence": [{"id": "https://pods.example/amara/contributions/2025-03-meal-rota#it",
                      "name": "Meal rota for the repair café volunteers"}],
        "valid_from": APRIL, "credential_id": "urn:uuid:6a1f4c52-0d3b-4a43-9bd0-8d1b64c0b1e7",
    }
    return reward_statement(**{**args, **change})


def reputation(**change: Any) -> dict[str, Any]:
    """The reputation statement of docs/vocabulary.md, built."""
    args: dict[str, Any] = {
        "issuer": RIVERSIDE, "subject": AMARA, "score": 0.82, "worst": 0, "best": 1,
        "count": 2, "explanation": "Share of the repair café's appreciated work in Q1 2025.",
        "method": "https://riverside.example/governance/reputation-method-v2#plan",
        "method_name": "Riverside reputation method, version 2",
        "derived_from": ["https://pods.example/amara/contributions/2025-03-meal-rota#it",
                         "https://pods.example/jonas/appreciations/meal-rota#it"],
        "generated_at": APRIL, "valid_from": APRIL,
        "valid_until": datetime(2025, 10, 1, tzinfo=UTC),
        "credential_id": "urn:uuid:0b8e0f0e-3c57-4d0e-a2c4-31c1d5a1f2aa",
    }
    return reputation_statement(**{**args, **change})


def test_reward_statement_is_the_documented_open_badge() -> None:
    assert reward() == json.loads(section("cp:RewardStatement", "json"))


def test_reward_statement_meets_open_badges_required_fields() -> None:
    badge = reward(image="https://pods.example/riverside/badges/community-carer.png")
    assert {"@context", "id", "type", "issuer", "validFrom", "name",
            "credentialSubject"} <= badge.keys()
    assert "OpenBadgeCredential" in badge["type"]
    assert {"id", "type"} <= badge["issuer"].keys() and "Profile" in badge["issuer"]["type"]
    subject = badge["credentialSubject"]
    assert "AchievementSubject" in subject["type"]
    achievement = subject["achievement"]
    assert {"id", "type", "name", "description", "criteria"} <= achievement.keys()
    assert achievement["criteria"]["narrative"]
    assert achievement["image"] == {"id": "https://pods.example/riverside/badges/"
                                          "community-carer.png", "type": "Image"}
    assert all("Evidence" in e["type"] for e in badge["evidence"])
    suite.canonicalize(badge)  # every term is defined: safe mode accepts it


def test_reward_statement_defaults() -> None:
    badge = reward(valid_from=None, credential_id=None, evidence=[])
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", badge["id"])
    assert badge["validFrom"].endswith("Z") and "evidence" not in badge
    assert reward(valid_from=datetime(2025, 4, 1, 2, tzinfo=timezone(timedelta(hours=2))))[
        "validFrom"] == "2025-04-01T00:00:00Z"


def test_reputation_statement_expands_to_the_documented_rdf() -> None:
    built = Graph()
    for triple in Graph().parse(data=suite.canonicalize(reputation()), format="nt"):
        built.add(triple)
    documented = Graph().parse(data=section("cp:ReputationStatement", "turtle"),
                               format="turtle")
    _, only_doc, only_built = graph_diff(to_isomorphic(documented), to_isomorphic(built))
    assert isomorphic(documented, built), (sorted(only_doc), sorted(only_built))


def test_reputation_numbers_are_typed() -> None:
    rating = reputation(score=0.5, worst=0.0, best=1e-0)["credentialSubject"]["reputation"]
    assert rating["ratingValue"] == {"@value": "0.5", "@type": "xsd:decimal"}
    assert rating["worstRating"] == {"@value": "0.0", "@type": "xsd:decimal"}
    nq = suite.canonicalize(reputation(score=0.00001))
    assert '"0.00001"^^<http://www.w3.org/2001/XMLSchema#decimal>' in nq


@pytest.mark.parametrize("build", [reward, reputation], ids=["reward", "reputation"])
def test_built_statements_sign_and_verify(build: Any) -> None:
    pub = public_key(SEED)
    signed = sign(build(issuer=did_key(pub)), private_key=SEED,
                  verification_method=did_key_vm(pub))
    verdict = asyncio.run(verify(signed, now=NOW))
    assert verdict.verified, verdict.reasons
    later = asyncio.run(verify(signed, now=datetime(2030, 1, 1, tzinfo=UTC)))
    assert later.verified == (build is reward)  # the reputation statement expires


@pytest.mark.parametrize(("build", "change", "message"), [
    (reward, {"issuer": ""}, "issuer is missing"),
    (reward, {"issuer_name": "  "}, "issuer_name is missing"),
    (reward, {"name": None}, "name is missing"),
    (reward, {"description": ""}, "description is missing"),
    (reward, {"criteria": ""}, "criteria is missing"),
    (reward, {"achievement_id": "badges/carer"}, "absolute IRI"),
    (reward, {"subject": "amara"}, "absolute IRI"),
    (reward, {"evidence": [{"id": "https://x.example/#it"}]}, r"evidence\[0\].name"),
    (reward, {"evidence": ["https://x.example/#it"]}, r"evidence\[0\] must be"),
    (reward, {"valid_from": datetime(2025, 4, 1)}, "naive"),
    (reward, {"valid_until": APRIL - timedelta(days=1)}, "later than"),
    (reputation, {"explanation": ""}, "explanation is missing"),
    (reputation, {"method": "plan"}, "absolute IRI"),
    (reputation, {"method_name": " "}, "method_name is missing"),
    (reputation, {"derived_from": []}, "derived_from"),
    (reputation, {"derived_from": ["ok:x", "rel/x"]}, r"derived_from\[1\]"),
    (reputation, {"generated_at": datetime(2025, 4, 1)}, "naive"),
    (reputation, {"valid_from": None}, "valid_from is missing"),
    (reputation, {"score": 1.5}, "not between"),
    (reputation, {"worst": 1}, "lower than best"),
    (reputation, {"score": float("nan")}, "finite"),
    (reputation, {"score": "0.8"}, "must be a number"),
    (reputation, {"count": -1}, "non-negative"),
    (reputation, {"credential_id": "0b8e0f0e"}, "absolute IRI"),
    (reputation, {"language": "en gb"}, "BCP 47"),
])
def test_bad_values_are_refused(build: Any, change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(**change)
