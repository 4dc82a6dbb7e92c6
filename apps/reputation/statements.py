"""Signed reputation statements: one per member per run, appended to the member's pod through
their append grant, each superseding (``prov:wasRevisionOf``) the member's previous one, which
stays as it was and verifiable. What was issued to whom is recorded in the community's pod
(``reputation-app/issued.ttl``: each member's latest statement's document, id, subject and time)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from apps.reputation.method import Result, Score
from apps.sdk import Graph
from apps.sdk.statements import reputation_statement, sign
from vocab.namespaces import CRED, PROV, SCHEMA, XSD, iri_of

_SUBJECT = ox.NamedNode(iri_of(CRED.credentialSubject))
_ID = ox.NamedNode(iri_of(SCHEMA.identifier))
_AT = ox.NamedNode(iri_of(PROV.generatedAtTime))
_DATETIME = ox.NamedNode(iri_of(XSD.dateTime))
PLACES = Decimal("0.000001")  # scores are stated to six decimal places


@dataclass(frozen=True)
class Issued:
    """A statement given to a member: where it was appended, its id, and when."""

    url: str
    id: str
    subject: str
    at: datetime


def statement(result: Result, score: Score, *, community: str, community_name: str,
              why_url: str, previous: str | None, now: datetime) -> dict[str, Any]:
    """The unsigned statement of ``score`` under ``result.rules``."""
    rules = result.rules
    stated = Decimal(repr(score.score)).quantize(PLACES).max(Decimal(0)).min(Decimal(1))
    inputs = [item.iri for item in score.items] or [rules.iri]
    return reputation_statement(
        issuer=community, subject=score.member, score=stated, worst=0, best=1,
        count=len(score.items),
        explanation=f"{stated} of {community_name}'s reputation, computed with the "
                    f"{rules.method} method of its rules, version {rules.version}, from "
                    f"{len(score.items)} inputs that counted; every input and its share: "
                    f"{why_url}",
        method=rules.iri, method_name=f"{community_name} rules, version {rules.version} "
                                      f"({rules.method})",
        derived_from=inputs, generated_at=now, valid_from=now,
        credential_id=f"urn:uuid:{uuid.uuid4()}", revision_of=previous)


def signed(credential: dict[str, Any], seed: bytes, verification_method: str) -> dict[str, Any]:
    """``credential`` with the community's ``eddsa-rdfc-2022`` proof."""
    return sign(credential, private_key=seed, verification_method=verification_method)


def issued_graph(issued: list[Issued]) -> Graph:
    """``issued.ttl`` for every statement issued so far."""
    g = Graph()
    for item in issued:
        node = ox.NamedNode(item.url)
        g.add(node, _SUBJECT, ox.NamedNode(item.subject))
        g.add(node, _ID, ox.Literal(item.id))
        g.add(node, _AT, ox.Literal(item.at.isoformat(), datatype=_DATETIME))
    return g


def issued_from(graph: Graph) -> list[Issued]:
    """The statements ``issued.ttl`` records, oldest first."""
    found = []
    for t in graph.triples(None, _SUBJECT, None):
        node, subject = t.subject, t.object
        ident, at = graph.value(node, _ID), graph.value(node, _AT)
        if isinstance(node, ox.NamedNode) and isinstance(subject, ox.NamedNode) and \
                isinstance(ident, ox.Literal) and isinstance(at, ox.Literal):
            found.append(Issued(node.value, ident.value, subject.value,
                                datetime.fromisoformat(at.value)))
    return sorted(found, key=lambda i: (i.at, i.url))


def latest(issued: list[Issued]) -> dict[str, Issued]:
    """Each member's latest statement."""
    return {i.subject: i for i in issued}


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
