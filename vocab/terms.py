"""The Commonpod vocabulary (``cp:``): its Turtle document and its terms as a closed namespace.

``vocab/commonpod.ttl`` is the source of truth; ``CP`` lists the same terms so a misspelt one
raises ``AttributeError`` (a test checks the two agree). Each server serves the document at
``/.vocab/ns``; the canonical namespace is ``https://commonpod.org/ns#``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

NAMESPACE = "https://commonpod.org/ns#"
ONTOLOGY = "https://commonpod.org/ns"
#: the base of our problem types (RFC 9457 §3.1.1 ``type``): base + a slug names each
PROBLEMS = "https://commonpod.org/problems/"
#: the format name a pod archive's manifest carries (``commonpod pod export``)
ARCHIVE_FORMAT = ONTOLOGY + "/pod-archive"
SOURCE = Path(__file__).resolve().parent / "commonpod.ttl"
#: the SHACL shapes for the classes Commonpod validates (served at ``/.vocab/shapes``)
SHAPES = Path(__file__).resolve().parent / "shapes.ttl"

_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_LABEL = ox.NamedNode(_RDFS + "label")
_COMMENT = ox.NamedNode(_RDFS + "comment")
_SUBCLASS = ox.NamedNode(_RDFS + "subClassOf")


class CP(DefinedNamespace):
    """Commonpod vocabulary (https://commonpod.org/ns#), defined in ``vocab/commonpod.ttl``."""

    _fail = True
    _NS = Namespace(NAMESPACE)

    # classes
    Contribution: URIRef
    ReputationStatement: URIRef
    RewardStatement: URIRef
    AccessGrant: URIRef
    Community: URIRef
    Rules: URIRef
    RulesProposal: URIRef
    Approval: URIRef
    # properties
    evidence: URIRef
    reputation: URIRef
    tracks: URIRef
    disclosureThreshold: URIRef
    grantDuration: URIRef
    privacyBudget: URIRef
    epsilon: URIRef
    # the community's rules (apps/rules)
    pointsFor: URIRef
    points: URIRef
    pointsPerHour: URIRef
    appreciationWeight: URIRef
    endorsementWeight: URIRef
    reputationMethod: URIRef
    damping: URIRef
    quorum: URIRef
    badge: URIRef
    threshold: URIRef
    windowDays: URIRef
    proposes: URIRef
    approves: URIRef
    adoptedAs: URIRef
    showsReputation: URIRef
    # contribution kinds (SKOS concepts in the scheme ContributionKinds)
    ContributionKinds: URIRef
    Code: URIRef
    Documentation: URIRef
    Design: URIRef
    Translation: URIRef
    Mentoring: URIRef
    Moderation: URIRef
    EventOrganising: URIRef
    CareWork: URIRef


@dataclass(frozen=True)
class Term:
    """One term of the document, for people: what it is, its label and its explanation."""

    iri: str
    kind: str  # "class", "property", "concept scheme" or "concept"
    label: str
    comment: str
    parents: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.iri.removeprefix(NAMESPACE)


@cache
def turtle() -> bytes:
    """The vocabulary document, as written."""
    return SOURCE.read_bytes()


@cache
def triples() -> tuple[ox.Triple, ...]:
    """The vocabulary document, parsed."""
    return tuple(q.triple for q in ox.parse(turtle(), ox.RdfFormat.TURTLE,
                                            base_iri=ONTOLOGY, without_named_graphs=True))


_KINDS = {
    _RDFS + "Class": "class",
    "http://www.w3.org/2002/07/owl#Class": "class",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property": "property",
    "http://www.w3.org/2002/07/owl#ObjectProperty": "property",
    _SKOS + "ConceptScheme": "concept scheme",
    _SKOS + "Concept": "concept",
}
_ORDER = ("class", "property", "concept scheme", "concept")


@dataclass
class _Facts:
    """What the document says of one term, gathered while reading it."""

    kind: str | None = None
    label: str = ""
    comment: str = ""
    parents: list[str] = field(default_factory=list)


@cache
def terms() -> tuple[Term, ...]:
    """Every ``cp:`` term the document defines, classes first, in document order."""
    found: dict[str, _Facts] = {}
    for t in triples():
        s, o = t.subject, t.object
        if not isinstance(s, ox.NamedNode) or not s.value.startswith(NAMESPACE):
            continue
        entry = found.setdefault(s.value, _Facts())
        if isinstance(o, ox.Triple):  # an RDF 1.2 triple term says nothing of a term here
            continue
        if t.predicate == _RDF_TYPE and o.value in _KINDS and entry.kind is None:
            entry.kind = _KINDS[o.value]
        elif t.predicate == _LABEL:
            entry.label = o.value
        elif t.predicate == _COMMENT:
            entry.comment = " ".join(o.value.split())
        elif t.predicate == _SUBCLASS:
            entry.parents.append(o.value)
    out = [Term(iri, e.kind, e.label, e.comment, tuple(e.parents))
           for iri, e in found.items() if e.kind is not None]
    return tuple(sorted(out, key=lambda term: _ORDER.index(term.kind)))


__all__ = ["CP", "NAMESPACE", "ONTOLOGY", "PROBLEMS", "Term", "terms", "triples", "turtle"]
