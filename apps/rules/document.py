"""The rules as an RDF document and back, and the lines a diff compares (pure: no I/O).

One version is one Turtle document whose subject is the document itself::

    <> a cp:Rules ; schema:version 2 ; prov:wasRevisionOf <v1.ttl> ;
       cp:pointsFor [ vf:resourceClassifiedAs cp:Code ; cp:points 3 ] , ... ;
       cp:pointsPerHour 1 ; cp:appreciationWeight 1 ; cp:endorsementWeight 2 ;
       cp:reputationMethod "pagerank" ; cp:damping 0.85 ; cp:quorum 2 ;
       cp:badge <#badge-mentor> .
    <#badge-mentor> a obv3:Achievement ; schema:identifier "mentor" ; schema:name "Mentor" ;
       schema:description "…" ; vf:resourceClassifiedAs cp:Mentoring ; cp:threshold 10 ;
       cp:windowDays 365 .
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from apps.rules.model import KINDS, Badge, Rules
from apps.sdk import Graph
from vocab.namespaces import OBV3, PROV, RDF, SCHEMA, VF, XSD, iri_of
from vocab.prefixes import PREFIXES
from vocab.terms import CP, NAMESPACE


def _n(term: object) -> ox.NamedNode:
    return ox.NamedNode(iri_of(term))  # type: ignore[arg-type]


_TYPE, _VERSION, _REVISION = _n(RDF.type), _n(SCHEMA.version), _n(PROV.wasRevisionOf)
_KIND, _POINTS, _POINTS_FOR = _n(VF.resourceClassifiedAs), _n(CP.points), _n(CP.pointsFor)
_INTEGER, _DECIMAL = _n(XSD.integer), _n(XSD.decimal)
_SETTINGS = {"points_per_hour": _n(CP.pointsPerHour),
             "appreciation_weight": _n(CP.appreciationWeight),
             "endorsement_weight": _n(CP.endorsementWeight), "damping": _n(CP.damping)}


def _decimal(value: Decimal) -> ox.Literal:
    return ox.Literal(str(value), datatype=_DECIMAL)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_INTEGER)


def rules_graph(rules: Rules, previous: str | None = None) -> Graph:
    """The document of ``rules`` (subject ``rules.iri``; ``previous``: the version it
    replaced)."""
    g, it = Graph(), ox.NamedNode(rules.iri)
    g.add(it, _TYPE, _n(CP.Rules))
    g.add(it, _VERSION, _integer(rules.version))
    if previous:
        g.add(it, _REVISION, ox.NamedNode(previous))
    for kind, points in rules.points.items():
        blank = ox.BlankNode(f"points{KINDS.index(kind)}")
        g.add(it, _POINTS_FOR, blank)
        g.add(blank, _KIND, ox.NamedNode(kind))
        g.add(blank, _POINTS, _decimal(points))
    for name, predicate in _SETTINGS.items():
        g.add(it, predicate, _decimal(getattr(rules, name)))
    g.add(it, _n(CP.reputationMethod), ox.Literal(rules.method))
    g.add(it, _n(CP.quorum), _integer(rules.quorum))
    for badge in rules.badges:
        node = ox.NamedNode(f"{rules.iri.split('#', 1)[0]}#badge-{badge.slug}")
        g.add(it, _n(CP.badge), node)
        g.add(node, _TYPE, _n(OBV3.Achievement))
        g.add(node, _n(SCHEMA.identifier), ox.Literal(badge.slug))
        g.add(node, _n(SCHEMA.name), ox.Literal(badge.name))
        g.add(node, _n(SCHEMA.description), ox.Literal(badge.description))
        g.add(node, _KIND, ox.NamedNode(badge.kind))
        g.add(node, _n(CP.threshold), _integer(badge.count))
        g.add(node, _n(CP.windowDays), _integer(badge.window_days))
    return g


def turtle(rules: Rules) -> str:
    """The document of ``rules`` as readable Turtle (prefixed names): what a member edits to
    propose a change."""
    used = {k: PREFIXES[k] for k in ("cp", "vf", "schema", "obv3", "prov", "xsd")}
    return rules_graph(rules).serialize("text/turtle", prefixes=used).decode()


class RulesError(ValueError):
    """A rules document that cannot be used; the message says what is wrong."""


def _literal(graph: Graph, node: object, predicate: ox.NamedNode, what: str) -> str:
    found = graph.value(node, predicate)
    if not isinstance(found, ox.Literal):
        raise RulesError(f"the rules give no {what}")
    return found.value


def _number(graph: Graph, node: object, predicate: ox.NamedNode, what: str) -> Decimal:
    text = _literal(graph, node, predicate, what)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise RulesError(f"{what} must be a number, not {text!r}") from None


def _whole(graph: Graph, node: object, predicate: ox.NamedNode, what: str) -> int:
    number = _number(graph, node, predicate, what)
    if number != number.to_integral_value():
        raise RulesError(f"{what} must be a whole number, not {number}")
    return int(number)


def _badge(graph: Graph, node: object) -> Badge:
    kind = graph.value(node, _KIND)
    return Badge(
        slug=_literal(graph, node, _n(SCHEMA.identifier), "badge identifier"),
        name=_literal(graph, node, _n(SCHEMA.name), "badge name"),
        description=_literal(graph, node, _n(SCHEMA.description), "badge description"),
        kind=kind.value if isinstance(kind, ox.NamedNode) else "",
        count=_whole(graph, node, _n(CP.threshold), "badge threshold"),
        window_days=_whole(graph, node, _n(CP.windowDays), "badge window in days"))


def rules_from(graph: Graph, iri: str, version: int | None = None) -> Rules:
    """The rules the one ``cp:Rules`` node of ``graph`` states, as the version at ``iri``
    (``version``: its number, else the document's ``schema:version``). :class:`RulesError`
    names what is missing or wrong."""
    nodes = graph.subjects(_TYPE, _n(CP.Rules))
    if len(nodes) != 1:
        raise RulesError(f"a rules document describes exactly one cp:Rules, not {len(nodes)}")
    it = nodes[0]
    points: dict[str, Decimal] = {}
    for node in graph.objects(it, _POINTS_FOR):
        kind = graph.value(node, _KIND)
        if not isinstance(kind, ox.NamedNode):
            raise RulesError("each cp:pointsFor names its kind (vf:resourceClassifiedAs)")
        if kind.value in points:
            raise RulesError(f"two cp:pointsFor for {kind.value}")
        points[kind.value] = _number(graph, node, _POINTS, f"points for {kind.value}")
    try:
        number = version if version is not None else _whole(graph, it, _VERSION, "version")
        settings = {name: _number(graph, it, p, name.replace("_", " "))
                    for name, p in _SETTINGS.items()}
        badges = tuple(_badge(graph, b) for b in graph.objects(it, _n(CP.badge)))
        return Rules(version=number, iri=iri, points=points, badges=badges,
                     method=_literal(graph, it, _n(CP.reputationMethod), "reputation method"),
                     quorum=_whole(graph, it, _n(CP.quorum), "quorum"),
                     **settings)
    except RulesError:
        raise
    except ValueError as exc:
        raise RulesError(str(exc)) from None


def parse_rules(text: str, iri: str, version: int) -> Rules:
    """Rules a member wrote as Turtle (relative IRIs against ``iri``), as version ``version``
    stored at ``iri``."""
    try:
        graph = Graph.parse(text.encode(), "text/turtle", base_iri=iri)
    except ValueError as exc:
        raise RulesError(f"this is not Turtle: {exc}") from None
    return replace(rules_from(graph, iri, version), version=version, iri=iri)


def _name(iri: str) -> str:
    return iri.removeprefix(NAMESPACE)


def lines(rules: Rules) -> list[str]:
    """The rules as one line per setting, in a fixed order: what a diff compares."""
    out = [f"points per contribution, {_name(k)}: {v}" for k, v in rules.points.items()]
    out += [f"points per hour of effort: {rules.points_per_hour}",
            f"appreciation weight: {rules.appreciation_weight}",
            f"endorsement weight: {rules.endorsement_weight}",
            f"reputation method: {rules.method}", f"damping: {rules.damping}",
            f"quorum: {rules.quorum}"]
    out += [f"badge {b.slug}: {b.name}, {b.count} × {_name(b.kind)} within {b.window_days} "
            f"days ({b.description})" for b in rules.badges]
    return out


def diff(in_force: Rules, proposed: Rules) -> list[str]:
    """What ``proposed`` changes, as unified-diff lines ("-" removed, "+" added)."""
    return [line for line in difflib.unified_diff(
        lines(in_force), lines(proposed), f"v{in_force.version}", "proposed", n=0,
        lineterm="") if line[:1] in "+-" and not line.startswith(("+++", "---"))]
