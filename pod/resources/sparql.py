"""SPARQL 1.1 Update as a PATCH body (Solid Protocol 0.11 §5.3.1): the subset that edits one
RDF document.

One parse decides everything. rdflib's SPARQL grammar reads the update once; this module turns
the operations it found into triple patterns, refusing — before anything runs — every form that
could reach beyond the document (``LOAD``, ``SERVICE``, ``GRAPH``, ``WITH``, ``USING``, the
graph management operations) or that this subset does not evaluate; :meth:`SparqlUpdate.apply`
then evaluates exactly those patterns over the document's triples with the matcher in
:mod:`pod.resources.patterns`. No second parser ever reads the text and nothing here opens a
connection, so what is checked — including the modes a PATCH needs — is what runs.

Supported (SPARQL 1.1 Update §3.1): ``INSERT DATA``, ``DELETE DATA``, ``DELETE WHERE`` and
``DELETE``/``INSERT … WHERE`` with a basic graph pattern as ``WHERE``, in sequence.

rdflib ends a ``#`` comment at a line feed only, not at a lone carriage return as the SPARQL
grammar (§19.4) does: text after ``# …\\r`` is then part of the comment. Because the same parse
is what runs, such text is ignored, never run unchecked.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib.paths import Path
from rdflib.term import BNode, Literal, URIRef, Variable

from pod.errors import InvalidSyntax, PodError, Unprocessable
from pod.resources.patterns import (
    MATCH_BUDGET,
    Binding,
    OverBudget,
    Pattern,
    instantiate,
    match,
    order,
)

if TYPE_CHECKING:
    from rdflib.plugins.sparql.parserutils import CompValue

MAX_RESULT = 1_000_000
"""Triples one operation may produce from its templates before it is refused as too costly."""

_OPERATIONS = {"InsertData", "DeleteData", "DeleteWhere", "Modify"}
_REFUSED_PARTS = {
    "Filter": "FILTER", "OptionalGraphPattern": "OPTIONAL", "MinusGraphPattern": "MINUS",
    "GroupOrUnionGraphPattern": "UNION or nested groups", "GraphGraphPattern": "GRAPH",
    "ServiceGraphPattern": "SERVICE", "Bind": "BIND", "InlineData": "VALUES",
    "SubSelect": "sub-queries",
}


@dataclass(frozen=True, slots=True)
class Operation:
    """One update operation as patterns: ``where`` is ``None`` for the DATA forms."""

    where: tuple[Pattern, ...] | None
    deletes: tuple[Pattern, ...]
    inserts: tuple[Pattern, ...]


class SparqlUpdate:
    """A parsed update: what it needs (``reads``, ``deletes``) and how to apply it."""

    __slots__ = ("deletes", "operations", "reads")

    def __init__(self, operations: list[Operation]) -> None:
        self.operations = operations
        self.reads = any(op.where for op in operations)  # conditions: acl:Read
        self.deletes = any(op.deletes for op in operations)  # removals: acl:Write

    def apply(self, graph: set[ox.Triple], budget: int = MATCH_BUDGET) -> set[ox.Triple]:
        """Run the operations in order over a copy of ``graph`` (SPARQL 1.1 Update §3.1), each
        within ``budget`` steps of matching and of instantiating templates."""
        current = set(graph)
        for op in self.operations:
            solutions = [{}] if op.where is None else match(list(op.where), current,
                                                            limit=MAX_RESULT, budget=budget)
            work = len(solutions) * (len(op.deletes) + len(op.inserts))
            if len(solutions) > 1 and work > budget:  # one solution: bounded by the body
                raise OverBudget("the update's templates are too costly to instantiate")
            removed, added = _templates(op, solutions)
            current = (current - removed) | added
        return current


def _templates(op: Operation, solutions: list[Binding]) -> tuple[set[ox.Triple], set[ox.Triple]]:
    """The triples the delete and insert templates make under every solution; fresh blank
    nodes per solution for inserts; ill-formed instantiations are skipped (§3.1.3)."""
    removed: set[ox.Triple] = set()
    added: set[ox.Triple] = set()
    for binding in solutions:
        removed |= instantiate(list(op.deletes), binding, None, strict=False)
        added |= instantiate(list(op.inserts), binding, {}, strict=False)
        if len(removed) + len(added) > MAX_RESULT:
            raise Unprocessable("the update would produce too many triples")
    return removed, added


def parse_sparql_update(body: bytes, base_iri: str) -> SparqlUpdate:
    """Parse a SPARQL 1.1 Update into operations over the default graph; 400 for bad syntax,
    422 for forms outside the supported subset."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise InvalidSyntax(f"body is not UTF-8: {e.reason} at byte {e.start}") from None
    # rdflib builds its SPARQL grammar on import (0.2-0.4 s of CPU): only a process that reads
    # an update (a worker, pod/resources/workers.py) pays it, not every server and command
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        parsed = parseUpdate(text)
        return SparqlUpdate(list(_operations(parsed, base_iri)))
    except ParseBaseException as e:
        raise InvalidSyntax(f"SPARQL syntax error at line {e.lineno}, column {e.col}: {e.msg}",
                            line=e.lineno, column=e.col) from None
    except RecursionError:
        raise InvalidSyntax("the SPARQL update is nested too deeply or has too many "
                            "operations") from None
    except PodError:
        raise
    except Exception as e:  # rdflib reports unknown prefixes and the like by plain exceptions
        raise InvalidSyntax(f"SPARQL error: {e}") from None


def _operations(parsed: Any, base_iri: str) -> Any:
    from rdflib.plugins.sparql.algebra import (
        translatePath,
        translatePName,
        translatePrologue,
        traverse,
    )

    prologue = None
    for declared, request in zip(parsed.prologue, parsed.request or [], strict=False):
        prologue = translatePrologue(declared, base_iri, None, prologue)
        op = traverse(request, visitPost=functools.partial(translatePName, prologue=prologue))
        yield _operation(traverse(op, visitPost=translatePath))


def _operation(op: CompValue) -> Operation:
    if op.name not in _OPERATIONS:
        raise Unprocessable(f"SPARQL {_words(op.name)} is not supported in a PATCH: an update "
                            "may only edit the document it is sent to")
    if op.name == "Modify":
        extra = set(op) - {"delete", "insert", "where"}
        if extra:
            found = "WITH" if "withClause" in extra else "USING"
            raise Unprocessable(f"SPARQL {found} is not supported: a resource is one default "
                                "graph")
        deletes = _quads(_field(_field(op, "delete"), "quads"), "DELETE")
        inserts = _quads(_field(_field(op, "insert"), "quads"), "INSERT")
        where = _where(_field(op, "where"))
        _no_blank_nodes(deletes, "a DELETE template")
        return Operation(tuple(where), tuple(deletes), tuple(inserts))
    patterns = _quads(_field(op, "quads"), op.name)
    if op.name == "InsertData":
        _ground(patterns, "INSERT DATA")
        return Operation(None, (), tuple(patterns))
    _no_blank_nodes(patterns, _words(op.name))
    if op.name == "DeleteData":
        _ground(patterns, "DELETE DATA")
        return Operation(None, tuple(patterns), ())
    where = _scoped(patterns)  # DELETE WHERE: the pattern is its own template
    return Operation(tuple(where), tuple(where), ())


def _quads(quads: CompValue | None, what: str) -> list[Pattern]:
    if quads is None:
        return []
    if "quadsNotTriples" in quads:
        raise Unprocessable("SPARQL GRAPH is not supported: a resource is one default graph")
    return _triples(_field(quads, "triples") or [], what)


def _where(group: CompValue | None) -> list[Pattern]:
    """A ``WHERE`` that is a basic graph pattern; blank nodes in it act as variables."""
    if group is None:
        return []
    if group.name != "GroupGraphPatternSub":
        raise Unprocessable(f"SPARQL {_REFUSED_PARTS.get(group.name, group.name)} is not "
                            "supported in WHERE")
    patterns: list[Pattern] = []
    for part in _field(group, "part") or []:
        if part.name != "TriplesBlock":
            refused = _REFUSED_PARTS.get(part.name, _words(part.name))
            raise Unprocessable(f"SPARQL {refused} is not supported in WHERE: a PATCH takes "
                                "a basic graph pattern (triple patterns only)")
        patterns += _triples(part.triples, "WHERE")
    return _scoped(patterns)


def _field(node: CompValue | None, key: str) -> Any:
    """``node[key]``, or ``None`` (``CompValue.get`` would answer the key itself)."""
    return node[key] if node is not None and key in node else None


def _triples(blocks: list[Any], what: str) -> list[Pattern]:
    flat = [term for block in blocks for term in block]
    if len(flat) % 3:
        raise InvalidSyntax(f"malformed triples in {what}")
    labels: dict[str, ox.BlankNode] = {}
    out: list[Pattern] = []
    for i in range(0, len(flat), 3):
        s, p, o = (_term(x, labels) for x in flat[i:i + 3])
        if isinstance(s, ox.Literal):
            raise InvalidSyntax(f"a literal cannot be a subject in {what}: {s}")
        if not isinstance(p, ox.NamedNode | Variable):
            raise Unprocessable(f"property paths and non-IRI predicates are not supported in "
                                f"{what}")
        out.append((s, p, o))
    return out


def _term(x: Any, labels: dict[str, ox.BlankNode]) -> Any:
    try:
        if isinstance(x, Variable):
            return x
        if isinstance(x, URIRef):
            return ox.NamedNode(str(x))
        if isinstance(x, BNode):
            return labels.get(str(x)) or labels.setdefault(str(x), ox.BlankNode())
        if isinstance(x, Literal):
            if x.language:
                return ox.Literal(str(x), language=x.language)
            if x.datatype is not None:
                return ox.Literal(str(x), datatype=ox.NamedNode(str(x.datatype)))
            return ox.Literal(str(x))
    except ValueError as e:
        raise InvalidSyntax(f"invalid RDF term {x!s}: {e}") from None
    if isinstance(x, Path):
        raise Unprocessable("SPARQL property paths are not supported in a PATCH")
    raise Unprocessable(f"unsupported SPARQL construct: {_words(getattr(x, 'name', type(x)))}")


def _scoped(patterns: list[Pattern]) -> list[Pattern]:
    """Blank nodes in a pattern behave as variables scoped to it (SPARQL 1.1 Query §4.1.4)."""
    names: dict[ox.BlankNode, Variable] = {}

    def var(x: Any) -> Any:
        if isinstance(x, ox.BlankNode):
            return names.setdefault(x, Variable(f"_:{len(names)}"))  # no SPARQL name has ':'
        return x

    return order([(var(s), var(p), var(o)) for s, p, o in patterns])


def _ground(patterns: list[Pattern], what: str) -> None:
    if any(isinstance(x, Variable) for t in patterns for x in t):
        raise InvalidSyntax(f"{what} cannot contain variables")


def _no_blank_nodes(patterns: list[Pattern], what: str) -> None:
    if any(isinstance(x, ox.BlankNode) for t in patterns for x in t):
        raise InvalidSyntax(f"{what} cannot contain blank nodes (SPARQL 1.1 Update §3.1)")


def _words(name: object) -> str:
    """``DeleteWhere`` → ``DELETE WHERE``."""
    text = str(name)
    return "".join(" " + c if c.isupper() and i else c for i, c in enumerate(text)).upper()

