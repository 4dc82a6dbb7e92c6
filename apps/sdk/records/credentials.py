"""Signed statements as records: rewards (Open Badges 3.0, ``cp:RewardStatement``) and
reputation (``cp:ReputationStatement``), docs/statements.md. Each is a credential:
``to_credential()`` builds it (:mod:`apps.sdk.statements.builders`), ``signed()`` signs it,
``from_credential()`` reads one as a document holds it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Self

import pyoxigraph as ox

from apps.sdk.rdf import JSON_LD, Graph
from apps.sdk.records.base import (
    Record,
    as_node,
    iris,
    literal,
    named,
    one_iri,
    read_number,
    read_time,
)
from apps.sdk.statements import sign
from apps.sdk.statements.builders import reputation_statement, reward_statement
from vocab.namespaces import CRED, OBV3, PROV, SCHEMA
from vocab.terms import CP


class Statement(Record):
    """A signed statement: a Verifiable Credential. ``credential`` is the JSON-LD it was read
    from (with its proof), when it was read from a document."""

    credential: dict[str, Any] | None

    def to_credential(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_graph(self) -> Graph:
        """The statement's triples (its credential without the proof, read as RDF)."""
        return Graph.parse(json.dumps(self.to_credential()), JSON_LD)

    def signed(self, *, private_key: bytes, verification_method: str) -> dict[str, Any]:
        """The credential with an ``eddsa-rdfc-2022`` proof by the Ed25519 key whose 32-byte
        seed is ``private_key`` (:func:`apps.sdk.statements.sign`)."""
        return sign(self.to_credential(), private_key=private_key,
                    verification_method=verification_method)

    @classmethod
    def from_credential(cls, credential: dict[str, Any]) -> Self:
        """The statement a credential (as a document holds it) makes; its proof is kept in
        ``credential`` for :func:`apps.sdk.statements.verify`, and not checked here."""
        if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
            raise ValueError("a statement must be a JSON-LD credential with an id")
        unsigned = {k: v for k, v in credential.items() if k != "proof"}
        record = cls.from_graph(Graph.parse(json.dumps(unsigned), JSON_LD), credential["id"])
        record.credential = credential
        return record


def _reached(graph: Graph, start: ox.NamedNode, predicate: object, credential: ox.NamedNode,
             what: str, same_name: ox.Literal | None = None) -> ox.NamedNode:
    """The node of ``start predicate ?`` that belongs to this credential: in a graph of many
    statements about one member, the one named after it (``{id}#…``) or carrying its name."""
    found = [o for o in graph.objects(start, named(predicate)) if isinstance(o, ox.NamedNode)]
    if len(found) > 1:
        own = [o for o in found if o.value.startswith(credential.value + "#")] or \
              [o for o in found if same_name is not None and
               literal(graph, o, SCHEMA.name) == same_name]
        found = own
    if len(found) != 1:
        raise ValueError(f"{credential.value}: {len(found)} candidates for its {what}; "
                         "read the statement's own document (from_credential)")
    return found[0]


@dataclass
class EvidenceItem:
    """Something that shows the reward was earned: its IRI and a name."""

    id: str
    name: str


@dataclass
class RewardStatement(Statement):
    """A reward: an Open Badges 3.0 ``OpenBadgeCredential`` typed ``cp:RewardStatement``,
    awarding ``achievement_id`` (``name``, ``description``, ``criteria``) to ``subject``."""

    cls: ClassVar[str] = str(CP.RewardStatement)

    issuer: str
    issuer_name: str
    subject: str
    achievement_id: str
    name: str
    description: str
    criteria: str
    evidence: tuple[EvidenceItem, ...] = ()
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    image: str | None = None
    id: str | None = None
    credential: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_credential(self) -> dict[str, Any]:
        """The unsigned credential (:func:`~apps.sdk.statements.builders.reward_statement`)."""
        return reward_statement(
            issuer=self.issuer, issuer_name=self.issuer_name, subject=self.subject,
            achievement_id=self.achievement_id, name=self.name, description=self.description,
            criteria=self.criteria, evidence=[{"id": e.id, "name": e.name} for e in self.evidence],
            valid_from=self.valid_from, valid_until=self.valid_until, credential_id=self.id,
            image=self.image)

    @classmethod
    def from_graph(cls, graph: Graph, node: str | ox.NamedNode) -> RewardStatement:
        it = as_node(node)
        issuer = ox.NamedNode(one_iri(graph, it, CRED.issuer, "issuer"))
        subject = ox.NamedNode(one_iri(graph, it, CRED.credentialSubject, "credentialSubject"))
        own_name = literal(graph, it, SCHEMA.name)
        achievement = _reached(graph, subject, OBV3.achievement, it, "achievement", own_name)

        def text(node: object, predicate: object, what: str) -> str:
            found = literal(graph, node, predicate)
            if found is None:
                raise ValueError(f"{it.value} has no {what}")
            return found.value

        criteria = graph.value(achievement, named(OBV3.Criteria))
        evidence = tuple(EvidenceItem(e, text(ox.NamedNode(e), SCHEMA.name, f"name for {e}"))
                         for e in sorted(iris(graph, it, CRED.evidence)))
        image = iris(graph, achievement, OBV3.image)
        until = read_time(graph.value(it, named(CRED.validUntil)))
        since = read_time(graph.value(it, named(CRED.validFrom)))
        return cls(issuer.value, text(issuer, SCHEMA.name, "issuer name"), subject.value,
                   achievement.value, text(achievement, SCHEMA.name, "achievement name"),
                   text(achievement, SCHEMA.description, "achievement description"),
                   text(criteria, OBV3.narrative, "criteria narrative"), evidence,
                   since if isinstance(since, datetime) else None,
                   until if isinstance(until, datetime) else None,
                   image[0] if image else None, it.value)


@dataclass
class ReputationStatement(Statement):
    """A reputation statement (``cp:ReputationStatement``): ``subject`` scores ``score`` on
    ``worst``..``best`` over ``count`` ratings, derived from ``derived_from`` by ``method``."""

    cls: ClassVar[str] = str(CP.ReputationStatement)

    issuer: str
    subject: str
    score: int | float | Decimal
    worst: int | float | Decimal
    best: int | float | Decimal
    count: int
    explanation: str
    method: str
    method_name: str
    derived_from: tuple[str, ...]
    generated_at: datetime
    valid_from: datetime
    valid_until: datetime | None = None
    language: str = "en"
    id: str | None = None
    credential: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_credential(self) -> dict[str, Any]:
        """The unsigned credential
        (:func:`~apps.sdk.statements.builders.reputation_statement`)."""
        return reputation_statement(
            issuer=self.issuer, subject=self.subject, score=self.score, worst=self.worst,
            best=self.best, count=self.count, explanation=self.explanation, method=self.method,
            method_name=self.method_name, derived_from=list(self.derived_from),
            generated_at=self.generated_at, valid_from=self.valid_from,
            valid_until=self.valid_until, credential_id=self.id, language=self.language)

    @classmethod
    def from_graph(cls, graph: Graph, node: str | ox.NamedNode) -> ReputationStatement:
        it = as_node(node)
        issuer = one_iri(graph, it, CRED.issuer, "issuer")
        subject = ox.NamedNode(one_iri(graph, it, CRED.credentialSubject, "credentialSubject"))
        rating = _reached(graph, subject, CP.reputation, it, "cp:reputation")
        activity = graph.value(rating, named(PROV.wasGeneratedBy))
        association = graph.value(activity, named(PROV.qualifiedAssociation))
        plan = graph.value(association, named(PROV.hadPlan))
        numbers = {name: read_number(literal(graph, rating, p)) for name, p in (
            ("score", SCHEMA.ratingValue), ("worst", SCHEMA.worstRating),
            ("best", SCHEMA.bestRating), ("count", SCHEMA.ratingCount))}
        missing = [k for k, v in numbers.items() if v is None]
        explanation = literal(graph, rating, SCHEMA.ratingExplanation)
        plan_name = literal(graph, plan, SCHEMA.name)
        generated = read_time(graph.value(activity, named(PROV.endedAtTime)))
        since = read_time(graph.value(it, named(CRED.validFrom)))
        until = read_time(graph.value(it, named(CRED.validUntil)))
        if missing or explanation is None or plan_name is None or \
                not isinstance(plan, ox.NamedNode) or not isinstance(generated, datetime) or \
                not isinstance(since, datetime):
            raise ValueError(f"{it.value} is not a complete reputation statement "
                             f"(missing: {', '.join(missing) or 'its derivation or dates'})")
        score, worst, best, count = (numbers[k] for k in ("score", "worst", "best", "count"))
        assert score is not None and worst is not None and best is not None and \
            count is not None  # none is missing
        return cls(issuer, subject.value, score, worst, best, int(count), explanation.value,
                   plan.value, plan_name.value,
                   tuple(sorted(iris(graph, rating, PROV.wasDerivedFrom))), generated, since,
                   until if isinstance(until, datetime) else None,
                   explanation.language or "en", it.value)
