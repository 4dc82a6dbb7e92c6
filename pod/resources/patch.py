"""PATCH bodies for RDF resources (Solid Protocol 0.11 §5.3.1): N3 Patch here, SPARQL Update in
:mod:`pod.resources.sparql`, and :class:`PatchParser`, which parses either off the event loop.

A parsed patch knows what it needs before access control runs (``reads``, ``deletes``) and
:meth:`ParsedPatch.apply` runs exactly what was parsed over a set of pyoxigraph triples.
N3 Patch is read by pyoxigraph when it can (plain formulae, ten times faster) and by rdflib's
N3 parser otherwise (variables), feeding a sink that builds pyoxigraph terms directly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

import pyoxigraph as ox
from rdflib.plugins.parsers.notation3 import BadSyntax, Formula, RDFSink, SinkParser, sfloat
from rdflib.term import Variable

from pod.errors import Conflict, InvalidSyntax, PayloadTooLarge, PodError, Unprocessable
from pod.resources.patterns import (
    MATCH_BUDGET,
    Pattern,
    ground,
    instantiate,
    match,
    order,
    variables,
)
from pod.resources.sparql import parse_sparql_update
from pod.resources.workers import Workers
from vocab.namespaces import RDF, SOLID, XSD, node_of

N3_PATCH = "text/n3"
SPARQL_UPDATE = "application/sparql-update"
MAX_PATCH_BYTES = 1024 * 1024
"""The largest PATCH body (either kind) this server parses."""
PARSE_BUDGET = 5.0
"""Seconds of CPU one PATCH body may take to parse, in a worker process."""
INLINE_N3_BYTES = 16 * 1024
"""N3 Patch bodies up to this size that pyoxigraph reads are parsed on the event loop."""

_TYPE = node_of(RDF.type)
_IDP = node_of(SOLID.InsertDeletePatch)
_PATCH_TYPES = (_IDP, node_of(SOLID.Patch))
_PARTS = {node_of(SOLID[k]): k for k in ("inserts", "deletes", "where")}
_NUMBERS = tuple((kind, node_of(XSD[name])) for kind, name in (
    (bool, "boolean"), (int, "integer"), (Decimal, "decimal"), (sfloat, "double")))


class ParsedPatch(Protocol):
    """What a PATCH will do, known before access control runs (Solid Protocol §5.3.1)."""

    reads: bool  # conditions or deletions: needs acl:Read
    deletes: bool  # removes triples: needs acl:Write (else acl:Append)

    def apply(self, graph: set[ox.Triple], budget: int = MATCH_BUDGET) -> set[ox.Triple]:
        """Return the patched graph; ``graph`` itself is left untouched. Raises
        :class:`~pod.resources.patterns.OverBudget` past ``budget`` steps."""
        ...


class PatchParser:
    """Parses PATCH bodies of untrusted clients: bounded in size, and in time by running the
    slow parsers (rdflib's SPARQL and N3) in a worker process under :data:`PARSE_BUDGET`."""

    TYPES = (N3_PATCH, SPARQL_UPDATE)

    def __init__(self, workers: Workers) -> None:
        self.workers = workers

    async def parse(self, media_type: str, body: bytes, base_iri: str) -> ParsedPatch:
        """Parse ``body`` of ``media_type`` (one of :attr:`TYPES`); 400/413/422 on bad input."""
        if len(body) > MAX_PATCH_BYTES:
            raise PayloadTooLarge(f"a PATCH body may be at most {MAX_PATCH_BYTES} bytes")
        if media_type == N3_PATCH and len(body) <= INLINE_N3_BYTES:
            root = _oxigraph_statements(body, base_iri)
            if root is not None:
                return _patch_from(root)
        parse = parse_n3_patch if media_type == N3_PATCH else parse_sparql_update
        return await self.workers.run(parse, body, base_iri, budget=PARSE_BUDGET,
                                      what="parsing this PATCH body")


# rdflib's N3 parser hands back to its sink whatever terms the sink made: this sink and its
# formulae make pyoxigraph terms (and plain str IRIs) where rdflib's own make rdflib terms, so
# the overrides below knowingly differ from rdflib's annotations ([override], one by one).


class _Formula(Formula):
    """A cited formula ``{ ... }`` that just collects its statements."""

    def __init__(self) -> None:  # no rdflib graph behind it
        self.existentials: dict[str, Any] = {}
        self.universals: dict[str, Any] = {}
        self.triples: list[tuple[Any, Any, Any]] = []

    def newBlankNode(self, *args: Any, **kwargs: Any) -> ox.BlankNode:  # type: ignore[override]
        return ox.BlankNode()

    def close(self) -> _Formula:  # type: ignore[override]
        return self  # the formula stands for itself as a term


class _Sink(RDFSink):
    """rdflib N3 parser sink emitting pyoxigraph terms (the N3 parser's ``store`` interface)."""

    def __init__(self) -> None:  # no rdflib graph behind it
        self.rootFormula: _Formula | None = None
        self._iris: dict[str, ox.NamedNode] = {}

    def newSymbol(self, *args: str) -> str:  # type: ignore[override]
        return args[0]  # a plain str: rdflib's URIRef would log on bad IRIs

    def newFormula(self) -> _Formula:
        return _Formula()

    def newBlankNode(self, *args: Any, **kwargs: Any) -> ox.BlankNode:  # type: ignore[override]
        return ox.BlankNode()

    def newLiteral(  # type: ignore[override]
            self, s: str, dt: Any = None, lang: str | None = None) -> ox.Literal:
        if dt is not None:
            return ox.Literal(s, datatype=self._iri(dt))
        return ox.Literal(s, language=lang) if lang else ox.Literal(s)

    def makeStatement(self, quadruple: tuple[Any, Any, Any, Any], why: Any = None) -> None:
        f, p, s, o = quadruple
        f.triples.append((self._term(f, s), self._term(f, p), self._term(f, o)))

    def _iri(self, value: Any) -> ox.NamedNode:
        iri = value[1] if isinstance(value, tuple) else str(value)
        if iri not in self._iris:
            try:
                self._iris[iri] = ox.NamedNode(iri)
            except ValueError as e:
                raise InvalidSyntax(f"invalid IRI <{iri}>: {e}") from None
        return self._iris[iri]

    def _term(self, f: _Formula, n: Any) -> Any:
        if isinstance(n, (ox.NamedNode, ox.BlankNode, ox.Literal, Variable, _Formula)):
            return n
        for kind, datatype in _NUMBERS:  # bare N3 numbers and booleans
            if isinstance(n, kind):
                return ox.Literal(str(n).lower() if kind is bool else str(n), datatype=datatype)
        if isinstance(n, str):  # URIRef, or a symbol this sink made
            return f.existentials.get(n) or self._iri(n)
        if isinstance(n, tuple):  # the parser's (SYMBOL, iri) pairs
            return self._iri(n)
        raise Unprocessable(f"unsupported N3 construct in patch: {type(n).__name__}")


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as e:
        raise InvalidSyntax(f"body is not UTF-8: {e.reason} at byte {e.start}") from None


def _formula_patterns(values: list[Any], part: str) -> list[Pattern]:
    """Check the ``solid:inserts|deletes|where`` formula (§5.3.1 constraints) and return it."""
    if not values:
        return []  # absent: the empty formula
    if len(values) > 1:
        raise Unprocessable(f"at most one solid:{part} allowed, found {len(values)}")
    f, bnodes_ok = values[0], part == "inserts"
    if not isinstance(f, _Formula):
        raise Unprocessable(f"solid:{part} must be a formula {{ ... }}")
    for s, p, o in f.triples:
        for x in (s, p, o):
            if isinstance(x, _Formula):
                raise Unprocessable(f"solid:{part} must not contain nested formulae")
            if isinstance(x, ox.BlankNode) and not bnodes_ok:
                raise Unprocessable(f"solid:{part} must not contain blank nodes")
        if isinstance(s, ox.Literal):
            raise Unprocessable(f"solid:{part} has a literal in subject position: {s}")
        if not isinstance(p, (ox.NamedNode, Variable)):
            raise Unprocessable(f"solid:{part} has a non-IRI predicate: {p}")
    return f.triples


def parse_n3_patch(body: bytes, base_iri: str) -> ParsedPatch:
    """Parse an N3 Patch (``text/n3``), Solid Protocol §5.3.1: 400 bad syntax, 422 bad shape."""
    root = _oxigraph_statements(body, base_iri)
    if root is None:
        root = _rdflib_statements(body, base_iri)
    return _patch_from(root)


def _oxigraph_statements(body: bytes, base_iri: str) -> list[tuple[Any, Any, Any]] | None:
    """The fast path: pyoxigraph reads formulae as named graphs, ten times faster than rdflib,
    but has no variables. ``None`` (so rdflib decides) for variables, syntax errors, or any
    shape that is not plain formulae referenced once from the default graph."""
    try:
        quads = list(ox.parse(body, ox.RdfFormat.N3, base_iri=base_iri))
    except (SyntaxError, ValueError):
        return None
    formulae: dict[ox.BlankNode, _Formula] = {}
    root = []
    for q in quads:
        if isinstance(q.graph_name, ox.DefaultGraph):
            root.append((q.subject, q.predicate, q.object))
        else:
            formulae.setdefault(q.graph_name, _Formula()).triples.append(
                (q.subject, q.predicate, q.object))
    for f in formulae.values():
        if any(isinstance(x, ox.BlankNode) and x in formulae for t in f.triples for x in t):
            return None  # nested formulae: rdflib gives the precise error
    out, used = [], set()
    for s, p, o in root:
        if s in formulae or p in formulae:
            return None
        if p in _PARTS:
            if o not in formulae:
                return None  # an empty {} or not a formula at all: let rdflib tell them apart
            used.add(o)
            o = formulae[o]
        elif o in formulae:
            return None
        out.append((s, p, o))
    return out if len(used) == len(formulae) else None


def _rdflib_statements(body: bytes, base_iri: str) -> list[tuple[Any, Any, Any]]:
    text = _decode(body)
    sink = _Sink()
    try:
        SinkParser(sink, baseURI=base_iri, turtle=False).loadBuf(text)
    except PodError:
        raise
    except BadSyntax as e:
        i = len(text) if e._i < 0 else min(e._i, len(text))
        line, column = text.count("\n", 0, i) + 1, i - text.rfind("\n", 0, i)
        raise InvalidSyntax(f"N3 syntax error at line {line}, column {column}: {e._why}",
                            line=line, column=column) from None
    except Exception:  # the N3 parser signals some malformed input by other exceptions,
        raise InvalidSyntax("N3 syntax error: the patch is not valid N3") from None  # whose
        # messages describe the parser, not the input
    assert sink.rootFormula is not None
    return sink.rootFormula.triples


def _patch_from(root: list[tuple[Any, Any, Any]]) -> ParsedPatch:
    """Check the patch resource's shape (§5.3.1) and build the patch."""
    subjects: set[Any] = set()
    typed = False
    parts: dict[str, list[Any]] = {"where": [], "deletes": [], "inserts": []}
    for s, p, o in root:
        if p == _TYPE and o in _PATCH_TYPES:
            subjects.add(s)
            typed |= o == _IDP
        elif p in _PARTS:
            subjects.add(s)
            parts[_PARTS[p]].append(o)
    if len(subjects) != 1:
        raise Unprocessable(f"need exactly one patch resource, found {len(subjects)}")
    if not typed:
        raise Unprocessable("the patch resource must be typed solid:InsertDeletePatch")
    where, deletes, inserts = (_formula_patterns(values, part) for part, values in parts.items())
    unbound = (variables(inserts) | variables(deletes)) - variables(where)
    if unbound:
        names = ", ".join(sorted("?" + v for v in unbound))
        raise Unprocessable(f"variables not occurring in solid:where: {names}")
    return _N3Patch(where, deletes, inserts)


class _N3Patch:
    __slots__ = ("_del_ready", "_del_todo", "_ins_ready", "_ins_todo", "_where", "deletes",
                 "reads")

    def __init__(self, where: list[Pattern], deletes: list[Pattern], inserts: list[Pattern]):
        self.reads = bool(where or deletes)
        self.deletes = bool(deletes)
        self._where = order(where)
        self._del_ready, self._del_todo = ground(deletes, False)
        self._ins_ready, self._ins_todo = ground(inserts, True)

    def apply(self, graph: set[ox.Triple], budget: int = MATCH_BUDGET) -> set[ox.Triple]:
        """Match ``where`` once, check and remove deletes, add inserts (§5.3.1); else 409."""
        solutions = match(self._where, graph, budget=budget) if self._where else [{}]
        if len(solutions) != 1:
            which = "no solution" if not solutions else "more than one solution"
            raise Conflict(f"the solid:where formula matched {which}; exactly one is required")
        binding = solutions[0]
        deletes = self._del_ready | instantiate(self._del_todo, binding, None)
        for t in deletes:
            if t not in graph:
                raise Conflict(f"triple to delete is not in the resource: {t}")
        inserts = self._ins_ready | instantiate(self._ins_todo, binding, {})
        return (graph - deletes) | inserts


