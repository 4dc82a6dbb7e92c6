"""What every record type shares: its class, its node, reading and writing RDF, and the
term helpers the record types are written with."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import ClassVar, Self

import pyoxigraph as ox

from apps.sdk.rdf import Graph, Term
from vocab.namespaces import RDF, XSD
from vocab.prefixes import expand

PLACEHOLDER = "urn:x-commonpod-sdk:new"


@lru_cache(maxsize=4096)
def named(term: object) -> ox.NamedNode:
    """The IRI ``term`` (a vocabulary term or a string) as a pyoxigraph node; the
    vocabulary's few hundred terms are made once, not at every read."""
    return term if isinstance(term, ox.NamedNode) else ox.NamedNode(str(term))


def iri_term(name: str, value: object) -> ox.NamedNode:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be an absolute IRI, not {value!r}")
    try:
        node = ox.NamedNode(expand(value))
    except ValueError:
        raise ValueError(f"{name} must be an absolute IRI, not {value!r}") from None
    return node


def text_term(name: str, value: object, language: str | None = None) -> ox.Literal:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is missing or blank")
    return ox.Literal(value, language=language) if language else ox.Literal(value)


def time_term(name: str, value: object) -> ox.Literal:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} is a naive datetime; give it a time zone")
        text = value.isoformat().replace("+00:00", "Z")
        return ox.Literal(text, datatype=named(XSD.dateTime))
    if isinstance(value, date):
        return ox.Literal(value.isoformat(), datatype=named(XSD.date))
    raise ValueError(f"{name} must be a date or datetime, not {value!r}")


def read_time(term: Term | None) -> datetime | date | None:
    if not isinstance(term, ox.Literal):
        return None
    try:
        if term.datatype == named(XSD.date):
            return date.fromisoformat(term.value)
        return datetime.fromisoformat(term.value)
    except ValueError:
        return None


def read_number(term: Term | None) -> int | Decimal | None:
    if not isinstance(term, ox.Literal):
        return None
    try:
        if term.datatype == named(XSD.integer):
            return int(term.value)
        return Decimal(term.value)
    except ArithmeticError:
        return None
    except ValueError:
        return None


def record_node(value: str | None) -> ox.NamedNode:
    return ox.NamedNode(value or PLACEHOLDER + "#it")


class Record:
    """What every record type has: its class IRI, its node, reading and writing RDF."""

    cls: ClassVar[str]
    id: str | None

    @classmethod
    def from_graph(cls, graph: Graph, node: str | ox.NamedNode) -> Self:
        raise NotImplementedError

    def to_graph(self) -> Graph:
        raise NotImplementedError

    @classmethod
    def all_in(cls, graph: Graph) -> list[Self]:
        """Every instance of the class in ``graph`` that reads as a record, in IRI order
        (:func:`invalid_in` says why others do not)."""
        return cls.read_all(graph)[0]

    @classmethod
    def invalid_in(cls, graph: Graph) -> dict[str, str]:
        """Instances of the class in ``graph`` that do not read as a record: node → why."""
        return cls.read_all(graph)[1]

    @classmethod
    def read_all(cls, graph: Graph) -> tuple[list[Self], dict[str, str]]:
        """:func:`all_in` and :func:`invalid_in` at once, reading each instance once."""
        found, problems = [], {}
        for node in instances(graph, cls.cls):
            try:
                found.append(cls.from_graph(graph, node))
            except ValueError as exc:
                problems[node.value] = str(exc)
        return found, problems

    def to_turtle(self) -> bytes:
        """The record as a Turtle document; a record without ``id`` is written as ``<#it>``."""
        return self.to_graph().to_turtle(PLACEHOLDER)


def instances(graph: Graph, cls: str) -> list[ox.NamedNode]:
    return [s for s in graph.subjects(named(RDF.type), ox.NamedNode(cls))
            if isinstance(s, ox.NamedNode)]


def one_iri(graph: Graph, node: ox.NamedNode, predicate: object, name: str) -> str:
    found = [o.value for o in graph.objects(node, named(predicate)) if isinstance(o, ox.NamedNode)]
    if len(found) != 1:
        raise ValueError(f"{node.value} needs exactly one {name} (an IRI), not {len(found)}")
    return found[0]


def iris(graph: Graph, node: object, predicate: object) -> tuple[str, ...]:
    return tuple(o.value for o in graph.objects(node, named(predicate))
                 if isinstance(o, ox.NamedNode))


def literal(graph: Graph, node: object, predicate: object) -> ox.Literal | None:
    found = graph.value(node, named(predicate))
    return found if isinstance(found, ox.Literal) else None


def as_node(node: str | ox.NamedNode) -> ox.NamedNode:
    return node if isinstance(node, ox.NamedNode) else ox.NamedNode(node)


