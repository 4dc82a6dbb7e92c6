"""ValueFlows records: contributions (``cp:Contribution``, a ``vf:work`` event) and thanks
(``vf:Appreciation``), docs/contributions.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import pyoxigraph as ox

from apps.sdk.rdf import Graph
from apps.sdk.records.base import (
    Record,
    as_node,
    iri_term,
    iris,
    literal,
    named,
    one_iri,
    read_number,
    read_time,
    record_node,
    text_term,
    time_term,
)
from vocab.namespaces import OM2, RDF, SCHEMA, VF, XSD
from vocab.terms import CP

# the predicates records are read with, made once (a vocabulary lookup costs more than the
# read itself)
_APPRECIATION_OF = named(VF.appreciationOf)
_APPRECIATION_WITH = named(VF.appreciationWith)
_DESCRIPTION = named(SCHEMA.description)
_EFFORT_QUANTITY = named(VF.effortQuantity)
_EVIDENCE = named(CP.evidence)
_HAS_BEGINNING = named(VF.hasBeginning)
_HAS_END = named(VF.hasEnd)
_HAS_NUMERICAL_VALUE = named(OM2.hasNumericalValue)
_HAS_POINT_IN_TIME = named(VF.hasPointInTime)
_HAS_UNIT = named(OM2.hasUnit)
_IN_SCOPE_OF = named(VF.inScopeOf)
_NAME = named(SCHEMA.name)
_PROVIDER = named(VF.provider)
_RECEIVER = named(VF.receiver)
_RESOURCE_CLASSIFIED_AS = named(VF.resourceClassifiedAs)


@dataclass(frozen=True)
class Effort:
    """How much work: ``value`` in ``unit`` (an OM 2 unit; hours by default)."""

    value: Decimal | int | float
    unit: str = str(OM2.hour)


@dataclass
class Contribution(Record):
    """A contribution (``cp:Contribution``): work ``provider`` did for ``in_scope_of``,
    classified as ``kinds`` (``cp:CareWork`` …), at ``when`` or from ``beginning`` to ``end``."""

    cls: ClassVar[str] = str(CP.Contribution)

    provider: str
    name: str
    in_scope_of: tuple[str, ...]
    kinds: tuple[str, ...]
    when: datetime | date | None = None
    beginning: datetime | date | None = None
    end: datetime | date | None = None
    receiver: str | None = None
    description: str | None = None
    effort: Effort | None = None
    evidence: tuple[str, ...] = ()
    #: the language of ``name`` and ``description`` (a BCP 47 tag), if they have one
    language: str | None = None
    id: str | None = None

    def to_graph(self) -> Graph:
        """The contribution's triples (its shape: docs/contributions.md)."""
        if not self.in_scope_of or not self.kinds:
            raise ValueError("a contribution needs in_scope_of and kinds (at least one each)")
        if self.when is None and (self.beginning is None or self.end is None):
            raise ValueError("a contribution needs when, or beginning and end")
        g, it = Graph(), record_node(self.id)
        g.add(it, named(RDF.type), named(CP.Contribution))
        g.add(it, named(VF.action), named(VF.work))
        g.add(it, named(VF.provider), iri_term("provider", self.provider))
        g.add(it, named(SCHEMA.name), text_term("name", self.name, self.language))
        for i, scope in enumerate(self.in_scope_of):
            g.add(it, named(VF.inScopeOf), iri_term(f"in_scope_of[{i}]", scope))
        for i, kind in enumerate(self.kinds):
            g.add(it, named(VF.resourceClassifiedAs), iri_term(f"kinds[{i}]", kind))
        for name, predicate in (("when", VF.hasPointInTime), ("beginning", VF.hasBeginning),
                                ("end", VF.hasEnd)):
            if getattr(self, name) is not None:
                g.add(it, named(predicate), time_term(name, getattr(self, name)))
        if self.receiver is not None:
            g.add(it, named(VF.receiver), iri_term("receiver", self.receiver))
        if self.description is not None:
            g.add(it, named(SCHEMA.description),
                  text_term("description", self.description, self.language))
        for i, link in enumerate(self.evidence):
            g.add(it, named(CP.evidence), iri_term(f"evidence[{i}]", link))
        if self.effort is not None:
            if self.effort.value < 0:
                raise ValueError("effort is never negative")
            quantity = ox.BlankNode()
            g.add(it, named(VF.effortQuantity), quantity)
            g.add(quantity, named(OM2.hasNumericalValue),
                  ox.Literal(str(Decimal(str(self.effort.value))), datatype=named(XSD.decimal)))
            g.add(quantity, named(OM2.hasUnit), iri_term("effort.unit", self.effort.unit))
        return g

    @classmethod
    def from_graph(cls, graph: Graph, node: str | ox.NamedNode) -> Contribution:
        """The contribution ``node`` describes in ``graph``."""
        it = as_node(node)
        name = literal(graph, it, _NAME)
        if name is None:
            raise ValueError(f"{it.value} has no schema:name")
        description = literal(graph, it, _DESCRIPTION)
        effort = None
        quantity = graph.value(it, _EFFORT_QUANTITY)
        if quantity is not None:
            value = read_number(literal(graph, quantity, _HAS_NUMERICAL_VALUE))
            unit = graph.value(quantity, _HAS_UNIT)
            if value is not None and isinstance(unit, ox.NamedNode):
                effort = Effort(value, unit.value)
        receiver = iris(graph, it, _RECEIVER)
        return cls(provider=one_iri(graph, it, _PROVIDER, "vf:provider"),
                   name=name.value, in_scope_of=tuple(sorted(iris(graph, it, _IN_SCOPE_OF))),
                   kinds=tuple(sorted(iris(graph, it, _RESOURCE_CLASSIFIED_AS))),
                   when=read_time(graph.value(it, _HAS_POINT_IN_TIME)),
                   beginning=read_time(graph.value(it, _HAS_BEGINNING)),
                   end=read_time(graph.value(it, _HAS_END)),
                   receiver=receiver[0] if receiver else None,
                   description=description.value if description else None, effort=effort,
                   evidence=tuple(sorted(iris(graph, it, _EVIDENCE))),
                   language=name.language, id=it.value)


@dataclass
class Appreciation(Record):
    """Thanks for a contribution (``vf:Appreciation``): ``appreciation_of`` is the
    contribution's IRI, ``appreciation_with`` what was given in return, if anything."""

    cls: ClassVar[str] = str(VF.Appreciation)

    appreciation_of: str
    description: str | None = None
    appreciation_with: str | None = None
    language: str | None = None
    id: str | None = None

    def to_graph(self) -> Graph:
        g, it = Graph(), record_node(self.id)
        g.add(it, named(RDF.type), named(VF.Appreciation))
        g.add(it, named(VF.appreciationOf), iri_term("appreciation_of", self.appreciation_of))
        if self.appreciation_with is not None:
            g.add(it, named(VF.appreciationWith),
                  iri_term("appreciation_with", self.appreciation_with))
        if self.description is not None:
            g.add(it, named(SCHEMA.description),
                  text_term("description", self.description, self.language))
        return g

    @classmethod
    def from_graph(cls, graph: Graph, node: str | ox.NamedNode) -> Appreciation:
        it = as_node(node)
        description = literal(graph, it, _DESCRIPTION)
        given = iris(graph, it, _APPRECIATION_WITH)
        return cls(one_iri(graph, it, _APPRECIATION_OF, "vf:appreciationOf"),
                   description.value if description else None, given[0] if given else None,
                   description.language if description else None, it.value)
