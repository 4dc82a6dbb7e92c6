"""SHACL validation of data written into containers registered for a class (W3C SHACL §3).

The shapes live in ``vocab/shapes.ttl``; pyshacl checks them. A document written where the
owner's type index expects instances of a class must describe at least one such instance, and
every instance of a shaped class in it must conform. Violations are collected, never cut short,
so a client learns everything that is wrong in one answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, RDFS, SH, XSD

from pod.errors import ShapeViolation, Unprocessable
from vocab.prefixes import compact
from vocab.terms import SHAPES

if TYPE_CHECKING:
    from pyshacl.shapes_graph import ShapesGraph

MAX_TRIPLES = 10_000
"""The most triples a document checked against a shape may hold (validation is superlinear)."""


@dataclass(frozen=True)
class Violation:
    """One failed constraint, in words and by reference."""

    focus: str
    path: str | None
    value: str | None
    message: str
    constraint: str

    def as_dict(self) -> dict[str, str]:
        out = {"focusNode": self.focus, "message": self.message, "constraint": self.constraint}
        if self.path:
            out["path"] = self.path
        if self.value:
            out["value"] = self.value
        return out


@cache
def shapes_graph() -> rdflib.Graph:
    """The parsed shapes (read once per process)."""
    return rdflib.Graph().parse(SHAPES, format="turtle")


@cache
def shaped_classes() -> frozenset[str]:
    """Every class some shape targets."""
    return frozenset(str(c) for c in shapes_graph().objects(None, SH.targetClass))


@cache
def _targeting_otherwise() -> tuple[rdflib.term.Node, ...]:
    """The shapes that name focus nodes otherwise than by class (SHACL §2.1.3.1, 2.1.3.4-5):
    checked whatever the document's classes."""
    g = shapes_graph()
    return tuple(sorted({s for p in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
                         for s in g.subjects(p, None)}, key=str))


@cache
def _by_class() -> dict[str, frozenset[rdflib.term.Node]]:
    """Class IRI → the shapes targeting its instances: by ``sh:targetClass`` or, a shape that
    is itself a class, implicitly (SHACL §2.1.3.3)."""
    g = shapes_graph()
    found: dict[str, set[rdflib.term.Node]] = {}
    for shape, cls in g.subject_objects(SH.targetClass):
        found.setdefault(str(cls), set()).add(shape)
    for shape in g.subjects(RDF.type, RDFS.Class):
        if (shape, RDF.type, SH.NodeShape) in g or (shape, RDF.type, SH.PropertyShape) in g:
            found.setdefault(str(shape), set()).add(shape)
    return {cls: frozenset(shapes) for cls, shapes in found.items()}


@lru_cache(maxsize=64)
def shapes_for(classes: frozenset[str]) -> rdflib.Graph | None:
    """The part of the shapes graph that can apply to instances of ``classes``: the shapes
    targeting them, those that target otherwise, and everything those refer to (property
    shapes, ``sh:node`` shapes, lists). Validating against it gives the same results as against
    every shape — a shape for other classes has no focus node in the document — at a fraction
    of pyshacl's cost, which grows with the number of shapes. ``None`` when nothing applies."""
    by_class = _by_class()
    roots = [*_targeting_otherwise(), *(shape for cls in sorted(classes)
                                        for shape in sorted(by_class.get(cls, ()), key=str))]
    if not roots:
        return None
    g, part, seen = shapes_graph(), rdflib.Graph(), set()
    while roots:
        node = roots.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in g.predicate_objects(node):
            part.add((node, p, o))
            if isinstance(o, (rdflib.BNode, rdflib.URIRef)) and (o, None, None) in g:
                roots.append(o)
    return part


@lru_cache(maxsize=64)
def _prepared(classes: frozenset[str]) -> tuple[rdflib.Graph, ShapesGraph] | None:
    """:func:`shapes_for` ``classes`` loaded as pyshacl loads a shapes graph, with pyshacl's
    view of its shapes built once: every check of a document of the same classes uses it,
    instead of pyshacl copying the graph and finding its shapes again each time."""
    # pyshacl is imported here, where checks run (a worker, pod/resources/workers.py): its
    # 0.3-0.6 s of import is not paid by every server and command that never checks a shape
    from pyshacl.rdfutil.load import load_from_source
    from pyshacl.shapes_graph import ShapesGraph

    part = shapes_for(classes)
    if part is None:
        return None
    loaded = load_from_source(part, multigraph=True, do_owl_imports=False)
    return loaded, ShapesGraph(loaded)


def _validate(data: rdflib.Graph, classes: frozenset[str]) -> tuple[bool, rdflib.Graph | None]:
    """pyshacl's verdict on ``data`` against the shapes that can apply to ``classes`` (no
    inference, SHACL Core only), and its report graph."""
    prepared = _prepared(classes)
    if prepared is None:
        return True, None
    from pyshacl import Validator
    from pyshacl.graph_abstraction import DataGraph

    loaded, shapes = prepared
    validator = Validator(DataGraph.from_rdflib(data), shacl_graph=loaded,
                          options={"inference": "none", "advanced": False})
    validator.shacl_graph = shapes  # the shapes found once (they hold no state of a data graph)
    conforms, report, _ = validator.run()  # type: ignore[no-untyped-call]
    return bool(conforms), report


def _classes_in(data: rdflib.Graph) -> frozenset[str]:
    """Every class something in ``data`` is an instance of, with the superclasses ``data``
    itself declares (``rdfs:subClassOf``, which SHACL class targets follow, §2.1.3.2)."""
    found = {o for o in data.objects(None, RDF.type) if isinstance(o, rdflib.URIRef)}
    todo = list(found)
    while todo:
        for parent in data.objects(todo.pop(), RDFS.subClassOf):
            if isinstance(parent, rdflib.URIRef) and parent not in found:
                found.add(parent)
                todo.append(parent)
    return frozenset(str(c) for c in found)


def short(node: object) -> str:
    """A readable name for an RDF term: a prefixed name when the namespace is known."""
    if isinstance(node, rdflib.URIRef):
        return compact(str(node))
    if isinstance(node, rdflib.BNode):
        return "_:" + str(node)
    if isinstance(node, rdflib.Literal):
        return f'"{node}"' + (f"^^{short(node.datatype)}" if node.datatype else "")
    return str(node)


def _path(report: rdflib.Graph, node: object) -> str | None:
    if isinstance(node, rdflib.BNode):  # a sequence path: ( p1 p2 )
        items = list(rdflib.collection.Collection(report, node))
        return " / ".join(short(i) for i in items) if items else None
    return short(node) if node is not None else None


def _violations(report: rdflib.Graph) -> list[Violation]:
    found: dict[tuple[str, str | None, str | None, str], Violation] = {}
    for result in report.objects(None, SH.result):  # top-level results, not their sh:detail
        def one(p: rdflib.URIRef, r: rdflib.term.Node = result) -> object:
            return report.value(r, p)
        value = one(SH.value)
        v = Violation(focus=short(one(SH.focusNode)), path=_path(report, one(SH.resultPath)),
                      value=short(value) if value is not None else None,
                      message=str(one(SH.resultMessage) or "a constraint failed"),
                      constraint=short(one(SH.sourceConstraintComponent)))
        found.setdefault((v.focus, v.path, v.value, v.message), v)  # one per message
    return sorted(found.values(), key=lambda v: (v.focus, v.path or "", v.message))


def to_rdflib(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    """An rdflib graph of pyoxigraph triples, term by term, as rdflib reads them from
    N-Triples (an ``xsd:string`` literal plain). RDF 1.2 triple terms and directional language
    strings, which rdflib cannot hold, are refused (422)."""
    graph = rdflib.Graph()
    add = graph.add
    for t in triples:
        add((_term(t.subject), rdflib.URIRef(t.predicate.value), _term(t.object)))
    return graph


_XSD_STRING = str(XSD.string)


def _term(term: object) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal) and term.direction is None:
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return rdflib.Literal(term.value) if datatype == _XSD_STRING else \
            rdflib.Literal(term.value, datatype=rdflib.URIRef(datatype))
    raise Unprocessable("RDF 1.2 triple terms and directional language strings cannot be "
                        "checked against a shape; a container registered for a class with a "
                        "shape takes RDF 1.1 data")


def check(triples: list[ox.Triple], classes: Iterable[str], where: str) -> None:
    """Raise :class:`ShapeViolation` unless ``triples`` describe an instance of each of
    ``classes`` that has a shape, and every shaped instance in them conforms."""
    wanted = sorted(set(classes) & shaped_classes())
    if not wanted:
        return
    typed = {t.object.value for t in triples
             if t.predicate.value == str(RDF.type) and isinstance(t.object, ox.NamedNode)}
    missing = [Violation(focus=where, path="rdf:type", value=None, constraint="cp:RegisteredClass",
                         message=f"{where} is registered for {short(rdflib.URIRef(c))}, but "
                                 "the document describes no instance of it")
               for c in wanted if c not in typed]
    data = to_rdflib(triples)
    conforms, report = _validate(data, _classes_in(data) & frozenset(_by_class()))
    found = missing + ([] if conforms or report is None else _violations(report))
    if found:
        noun = "constraint" if len(found) == 1 else "constraints"
        raise ShapeViolation(
            f"{len(found)} {noun} failed for data written into {where}, which the owner's "
            "type index registers for " + ", ".join(short(rdflib.URIRef(c)) for c in wanted),
            violations=[v.as_dict() for v in found], shapes="/.vocab/shapes")
