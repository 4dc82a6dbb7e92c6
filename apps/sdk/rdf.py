"""RDF in and out: a small graph of pyoxigraph terms, parsing and serialising the syntaxes pods
speak, and N3 Patch documents (Solid Protocol §5.3.1).

pyoxigraph parses and writes Turtle, N-Triples and plain JSON-LD; JSON-LD that names a remote
``@context`` is expanded by pyld with the contexts bundled in :mod:`vocab.contexts` only — a
context that is not bundled is refused, never fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from vocab.namespaces import SOLID, namespace_of

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Pattern = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Variable

TURTLE = "text/turtle"
JSON_LD = "application/ld+json"
N_TRIPLES = "application/n-triples"
#: what the SDK asks for when it wants RDF (Turtle first: every Solid server speaks it)
ACCEPT_RDF = f"{TURTLE}, {JSON_LD};q=0.9, {N_TRIPLES};q=0.8"
_FORMATS = {TURTLE: ox.RdfFormat.TURTLE, "application/x-turtle": ox.RdfFormat.TURTLE,
            N_TRIPLES: ox.RdfFormat.N_TRIPLES, "application/n-quads": ox.RdfFormat.N_QUADS,
            JSON_LD: ox.RdfFormat.JSON_LD, "text/n3": ox.RdfFormat.N3}
_SOLID_PREFIX = f"@prefix solid: <{namespace_of(SOLID)}>."


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` value, without parameters, lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_rdf(content_type: str | None) -> bool:
    """Whether a media type is an RDF syntax this module reads."""
    return media_type(content_type) in _FORMATS


class Graph:
    """A set of RDF triples (pyoxigraph terms), with the lookups records need. Iterating yields
    :class:`pyoxigraph.Triple` values; build one from any iterable of them."""

    def __init__(self, triples: Iterable[ox.Triple] = ()) -> None:
        self._triples: set[ox.Triple] = set()
        # subject -> predicate -> its triples; object -> its triples
        self._by_subject: dict[object, dict[object, list[ox.Triple]]] = {}
        self._by_object: dict[object, list[ox.Triple]] = {}
        self.update(triples)

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def __contains__(self, triple: object) -> bool:
        return triple in self._triples

    def __repr__(self) -> str:
        return f"<Graph of {len(self)} triples>"

    def add(self, subject: ox.NamedNode | ox.BlankNode, predicate: ox.NamedNode,
            obj: Term) -> None:
        """Add one triple."""
        self.update((ox.Triple(subject, predicate, obj),))

    def update(self, triples: Iterable[ox.Triple]) -> None:
        """Add triples."""
        seen, by_subject, by_object = self._triples, self._by_subject, self._by_object
        for t in triples:
            if t not in seen:
                seen.add(t)
                subject = t.subject
                predicates = by_subject.get(subject)
                if predicates is None:
                    predicates = by_subject[subject] = {}
                predicates.setdefault(t.predicate, []).append(t)
                by_object.setdefault(t.object, []).append(t)

    def triples(self, subject: object = None, predicate: object = None,
                obj: object = None) -> Iterator[ox.Triple]:
        """The triples matching a pattern (``None`` matches anything)."""
        if subject is not None:
            predicates = self._by_subject.get(subject, {})
            if predicate is not None:
                pool: Iterable[ox.Triple] = predicates.get(predicate, ())
            else:
                pool = (t for group in predicates.values() for t in group)
        elif obj is not None:
            pool = self._by_object.get(obj, ())
        else:
            pool = self._triples
        for t in pool:
            if (predicate is None or t.predicate == predicate) and \
                    (obj is None or t.object == obj):
                yield t

    def objects(self, subject: object, predicate: object) -> list[Term]:
        """The objects of ``subject predicate ?``, in a stable order (RDF 1.2 triple terms,
        which no record reads, are left out)."""
        group = self._by_subject.get(subject, {}).get(predicate, ())
        found = [t.object for t in group if not isinstance(t.object, ox.Triple)]
        return sorted(found, key=str) if len(found) > 1 else found

    def subjects(self, predicate: object, obj: object) -> list[ox.NamedNode | ox.BlankNode]:
        """The subjects of ``? predicate obj``, in a stable order."""
        found = (t.subject for t in self.triples(None, predicate, obj))
        return sorted((s for s in found if not isinstance(s, ox.Triple)), key=str)

    def value(self, subject: object, predicate: object) -> Term | None:
        """One object of ``subject predicate ?`` (the first in a stable order), or ``None``."""
        found = self.objects(subject, predicate)
        return found[0] if found else None

    @classmethod
    def parse(cls, data: bytes | str, content_type: str = TURTLE, *,
              base_iri: str | None = None) -> Graph:
        """A graph from a document in ``content_type`` (the default graph of a dataset);
        ``ValueError`` says what does not parse."""
        kind = media_type(content_type)
        raw = data.encode() if isinstance(data, str) else data
        if kind == JSON_LD:
            return cls(_json_ld(raw, base_iri))
        if kind not in _FORMATS:
            raise ValueError(f"{content_type!r} is not an RDF syntax the SDK reads")
        try:
            return cls(_default_graph(ox.parse(raw, format=_FORMATS[kind], base_iri=base_iri)))
        except SyntaxError as exc:
            raise ValueError(f"the {kind} document does not parse: {exc}") from None

    def serialize(self, content_type: str = TURTLE, *,
                  prefixes: dict[str, str] | None = None) -> bytes:
        """The graph in ``content_type`` (Turtle, N-Triples or JSON-LD), triples sorted."""
        kind = media_type(content_type)
        if kind not in (TURTLE, N_TRIPLES, JSON_LD):
            raise ValueError(f"{content_type!r} is not an RDF syntax the SDK writes")
        triples = sorted(self._triples, key=str)
        out = ox.serialize(triples, format=_FORMATS[kind],
                           prefixes=prefixes if prefixes and kind != N_TRIPLES else None)
        assert out is not None  # given no output to write to, pyoxigraph returns the bytes
        return out

    def to_turtle(self, document: str | None = None) -> bytes:
        """The graph as Turtle for the document ``document`` (e.g. a placeholder URL for one
        not created yet): its own IRIs are written relative (``<#it>``, ``<>``), so a server
        resolves them against the URL the document gets."""
        lines = [" ".join(_relative(term, document) for term in (t.subject, t.predicate,
                                                                  t.object)) + " ."
                 for t in sorted(self._triples, key=str)]
        return ("\n".join(lines) + "\n").encode()


def _relative(term: Term | ox.Triple, document: str | None) -> str:
    if isinstance(term, ox.Triple):  # an RDF 1.2 triple term (Turtle 1.2 §2.4)
        return "<<( " + " ".join(_relative(x, document) for x in term) + " )>>"
    if document is not None and isinstance(term, ox.NamedNode):
        if term.value == document:
            return "<>"
        if term.value.startswith(document + "#"):
            return f"<{term.value[len(document):]}>"
    return str(term)


def _default_graph(items: Iterable[Any]) -> Iterator[ox.Triple]:
    for item in items:
        if isinstance(item, ox.Triple):
            yield item
        elif isinstance(item.graph_name, ox.DefaultGraph):
            yield item.triple


def _json_ld(raw: bytes, base_iri: str | None) -> Iterator[ox.Triple]:
    """JSON-LD to triples: pyoxigraph for inline contexts, pyld with the bundled contexts
    when the document names a context by URL."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"the JSON-LD document is not JSON: {exc}") from None
    if not _names_context_url(doc):
        try:
            return _default_graph(ox.parse(raw, format=ox.RdfFormat.JSON_LD,
                                           base_iri=base_iri))
        except SyntaxError as exc:
            raise ValueError(f"the JSON-LD document does not parse: {exc}") from None
    from pyld import jsonld

    from vocab.contexts import document_loader

    options: dict[str, Any] = {"documentLoader": document_loader,
                               "format": "application/n-quads"}
    if base_iri:
        options["base"] = base_iri
    try:
        quads = jsonld.to_rdf(doc, options)
    except Exception as exc:  # pyld raises JsonLdError and, on bad input, plain errors
        raise ValueError(f"the JSON-LD document cannot be read: {exc}") from None
    return _default_graph(ox.parse(quads.encode(), format=ox.RdfFormat.N_QUADS))


def _names_context_url(doc: Any) -> bool:
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "@context":
                    contexts = value if isinstance(value, list) else [value]
                    if any(isinstance(c, str) for c in contexts):
                        return True
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return False


# --- N3 Patch ---------------------------------------------------------------------------

TriplePattern = tuple[Pattern, Pattern, Pattern]


@dataclass
class N3Patch:
    """An N3 Patch (Solid Protocol §5.3.1): ``deletes`` and ``inserts`` for the triples
    ``where`` matches (variables as :class:`pyoxigraph.Variable`). Every triple to delete must
    exist, and ``where`` must match exactly once, or the server refuses the whole patch (409).
    ``where`` and ``deletes`` cannot name blank nodes (§5.3.1); ``inserts`` may."""

    inserts: list[TriplePattern | ox.Triple] = field(default_factory=list)
    deletes: list[TriplePattern | ox.Triple] = field(default_factory=list)
    where: list[TriplePattern | ox.Triple] = field(default_factory=list)

    def __str__(self) -> str:
        return self.text()

    def text(self) -> str:
        """The patch as an N3 document (``text/n3``)."""
        for name in ("deletes", "where"):
            for t in getattr(self, name):
                if any(isinstance(term, ox.BlankNode) for term in _terms(t)):
                    raise ValueError(f"an N3 Patch's {name} cannot name blank nodes "
                                     "(Solid Protocol §5.3.1)")
        if not (self.inserts or self.deletes):
            raise ValueError("an N3 Patch needs something to insert or delete")
        parts = [_SOLID_PREFIX,
                 "_:patch a solid:InsertDeletePatch"]
        for name, triples in (("where", self.where), ("deletes", self.deletes),
                              ("inserts", self.inserts)):
            if triples:
                body = " ".join(" ".join(str(term) for term in _terms(t)) + "."
                                for t in triples)
                parts.append(f";\n  solid:{name} {{ {body} }}")
        return parts[0] + "\n" + "".join(parts[1:]) + ".\n"


def _terms(t: TriplePattern | ox.Triple
           ) -> tuple[Pattern | ox.Triple, Pattern | ox.Triple, Pattern | ox.Triple]:
    if isinstance(t, ox.Triple):
        return (t.subject, t.predicate, t.object)
    if len(t) != 3:
        raise ValueError(f"{t!r} is not a triple (subject, predicate, object)")
    return t
