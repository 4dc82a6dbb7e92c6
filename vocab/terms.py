"""The Commonpod vocabulary (``cp:``): its Turtle document and its terms as a closed namespace.

``vocab/commonpod.ttl`` is the source of truth; ``CP`` lists the same terms so a misspelt one
raises ``AttributeError`` (a test checks the two agree). Each server serves the document at
``/.vocab/ns``; the canonical namespace is ``https://commonpod.org/ns#``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

NAMESPACE = "https://commonpod.org/ns#"
ONTOLOGY = "https://commonpod.org/ns"
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
    # properties
    evidence: URIRef
    reputation: URIRef
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


@cache
def terms() -> tuple[Term, ...]:
    """Every ``cp:`` term the document defines, classes first, in document order."""
    found: dict[str, dict[str, object]] = {}
    for t in triples():
        s = t.subject
        if not isinstance(s, ox.NamedNode) or not s.value.startswith(NAMESPACE):
            continue
        entry = found.setdefault(s.value, {"kind": None, "label": "", "comment": "",
                                           "parents": []})
        if t.predicate == _RDF_TYPE and t.object.value in _KINDS and entry["kind"] is None:
            entry["kind"] = _KINDS[t.object.value]
        elif t.predicate == _LABEL:
            entry["label"] = t.object.value
        elif t.predicate == _COMMENT:
            entry["comment"] = " ".join(t.object.value.split())
        elif t.predicate == _SUBCLASS:
            entry["parents"].append(t.object.value)  # type: ignore[union-attr]
    out = [Term(iri, str(e["kind"]), str(e["label"]), str(e["comment"]),
                tuple(e["parents"]))  # type: ignore[arg-type]
           for iri, e in found.items() if e["kind"] is not None]
    return tuple(sorted(out, key=lambda term: _ORDER.index(term.kind)))


__all__ = ["CP", "NAMESPACE", "ONTOLOGY", "Term", "terms", "triples", "turtle"]
