"""PATCH bodies for RDF resources: N3 Patch (Solid Protocol 0.11 §5.3.1) and SPARQL Update.

Parsing runs before access control so the caller knows what a patch needs (``reads``,
``deletes``); :meth:`ParsedPatch.apply` then runs it over a set of pyoxigraph triples. rdflib's
N3 parser feeds a sink that builds pyoxigraph terms directly; SPARQL Update is checked with
rdflib's SPARQL parser and evaluated by pyoxigraph.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
from pyparsing import ParseBaseException, ParseResults
from rdflib.plugins.parsers.notation3 import BadSyntax, Formula, RDFSink, SinkParser, sfloat
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from pod.errors import Conflict, InvalidSyntax, PodError, Unprocessable

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Node = Term | Variable
Pattern = tuple[Node, Node, Node]
Binding = dict[Variable, Term]

SOLID = "http://www.w3.org/ns/solid/terms#"
XSD = "http://www.w3.org/2001/XMLSchema#"
_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_IDP = ox.NamedNode(SOLID + "InsertDeletePatch")
_PATCH_TYPES = (_IDP, ox.NamedNode(SOLID + "Patch"))
_PARTS = {ox.NamedNode(SOLID + k): k for k in ("inserts", "deletes", "where")}
_MATCH_BUDGET = 250_000
_NUMBERS = tuple((kind, ox.NamedNode(XSD + name)) for kind, name in (
    (bool, "boolean"), (int, "integer"), (Decimal, "decimal"), (sfloat, "double")))


class ParsedPatch:
    """What a PATCH will do, known before access control runs (Solid Protocol §5.3.1)."""

    __slots__ = ("deletes", "reads")

    def __init__(self, reads: bool, deletes: bool) -> None:
        self.reads = reads  # conditions or deletions: needs acl:Read (Solid §5.3.1)
        self.deletes = deletes  # removes triples: needs acl:Write (else acl:Append)

    def apply(self, graph: set[ox.Triple]) -> set[ox.Triple]:
        """Return the patched graph; ``graph`` itself is left untouched."""
        raise NotImplementedError


class _Formula(Formula):
    """A cited formula ``{ ... }`` that just collects its statements."""

    def __init__(self) -> None:  # no rdflib graph behind it
        self.existentials: dict[str, Any] = {}
        self.universals: dict[str, Any] = {}
        self.triples: list[tuple[Any, Any, Any]] = []

    def newBlankNode(self, *args: Any, **kwargs: Any) -> ox.BlankNode:
        return ox.BlankNode()

    def close(self) -> _Formula:  # the formula stands for itself as a term
        return self


class _Sink(RDFSink):
    """rdflib N3 parser sink emitting pyoxigraph terms (the N3 parser's ``store`` interface)."""

    def __init__(self) -> None:  # no rdflib graph behind it
        self.rootFormula: _Formula | None = None
        self._iris: dict[str, ox.NamedNode] = {}

    def newSymbol(self, *args: str) -> str:  # a plain str: rdflib's URIRef would log on bad IRIs
        return args[0]

    def newFormula(self) -> _Formula:
        return _Formula()

    def newBlankNode(self, *args: Any, **kwargs: Any) -> ox.BlankNode:
        return ox.BlankNode()

    def newLiteral(self, s: str, dt: Any = None, lang: str | None = None) -> ox.Literal:
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
        if isinstance(n, (str, tuple)):  # URIRef, or the parser's (SYMBOL, iri) pairs
            return f.existentials.get(n) or self._iri(n)
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


def _variables(patterns: list[Pattern]) -> set[Variable]:
    return {x for t in patterns for x in t if isinstance(x, Variable)}


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
    except Exception as e:  # the N3 parser signals some malformed input by other exceptions
        raise InvalidSyntax(f"N3 syntax error: {e}") from None
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
    unbound = (_variables(inserts) | _variables(deletes)) - _variables(where)
    if unbound:
        names = ", ".join(sorted("?" + v for v in unbound))
        raise Unprocessable(f"variables not occurring in solid:where: {names}")
    return _N3Patch(where, deletes, inserts)


def _ground(patterns: list[Pattern], bnodes_ok: bool) -> tuple[set[ox.Triple], list[Pattern]]:
    """Split templates into ready triples and ones needing variables or fresh blank nodes."""
    kinds = (Variable, ox.BlankNode) if bnodes_ok else Variable

    def open_(t: Pattern) -> bool:
        return any(isinstance(x, kinds) for x in t)

    return {ox.Triple(*t) for t in patterns if not open_(t)}, [t for t in patterns if open_(t)]


class _N3Patch(ParsedPatch):
    __slots__ = ("_del_ready", "_del_todo", "_ins_ready", "_ins_todo", "_where")

    def __init__(self, where: list[Pattern], deletes: list[Pattern], inserts: list[Pattern]):
        super().__init__(reads=bool(where or deletes), deletes=bool(deletes))
        # ground patterns first: they are cheap membership tests that prune early
        self._where = sorted(where, key=lambda t: sum(isinstance(x, Variable) for x in t))
        self._del_ready, self._del_todo = _ground(deletes, False)
        self._ins_ready, self._ins_todo = _ground(inserts, True)

    def apply(self, graph: set[ox.Triple]) -> set[ox.Triple]:
        """Match ``where`` once, check and remove deletes, add inserts (§5.3.1); else 409."""
        solutions = _match(self._where, graph) if self._where else [{}]
        if len(solutions) != 1:
            which = "no solution" if not solutions else "more than one solution"
            raise Conflict(f"the solid:where formula matched {which}; exactly one is required")
        binding = solutions[0]
        deletes = self._del_ready | _instantiate(self._del_todo, binding, None)
        for t in deletes:
            if t not in graph:
                raise Conflict(f"triple to delete is not in the resource: {t}")
        inserts = self._ins_ready | _instantiate(self._ins_todo, binding, {})
        return (graph - deletes) | inserts


def _instantiate(patterns: list[Pattern], binding: Binding,
                 fresh: dict[ox.BlankNode, ox.BlankNode] | None) -> set[ox.Triple]:
    """Substitute a solution (and fresh blank nodes when ``fresh`` is given) into templates."""
    out: set[ox.Triple] = set()
    for pattern in patterns:
        terms = []
        for x in pattern:
            if isinstance(x, Variable):
                x = binding[x]
            elif fresh is not None and isinstance(x, ox.BlankNode):
                x = fresh.get(x) or fresh.setdefault(x, ox.BlankNode())
            terms.append(x)
        try:
            out.add(ox.Triple(*terms))
        except TypeError:
            raise Conflict(f"not a valid triple: {' '.join(map(str, terms))}") from None
    return out


def _match(patterns: list[Pattern], graph: set[ox.Triple], limit: int = 2) -> list[Binding]:
    """Basic graph pattern matching by backtracking; stops after ``limit`` solutions."""
    found: list[Binding] = []
    budget = [_MATCH_BUDGET]  # triples examined: bounds adversarial cross-product patterns
    index: dict[Term, list[ox.Triple]] = {}

    def candidates(p: Node) -> Any:
        if isinstance(p, Variable):
            return graph
        if not index:
            for t in graph:
                index.setdefault(t.predicate, []).append(t)
        return index.get(p, ())

    def walk(i: int, b: Binding) -> bool:
        if i == len(patterns):
            found.append(b)
            return len(found) >= limit
        s, p, o = (b.get(x, x) if isinstance(x, Variable) else x for x in patterns[i])
        if not (isinstance(s, Variable) or isinstance(p, Variable) or isinstance(o, Variable)):
            try:
                hit = ox.Triple(s, p, o) in graph
            except TypeError:  # a literal bound in subject position matches nothing
                return False
            return hit and walk(i + 1, b)
        for t in candidates(p):
            budget[0] -= 1
            if budget[0] < 0:
                raise Unprocessable("the solid:where formula is too costly to evaluate")
            nb = b
            for pat, val in ((s, t.subject), (p, t.predicate), (o, t.object)):
                if isinstance(pat, Variable):
                    bound = nb.get(pat)
                    if bound is None:
                        nb = {**nb, pat: val}
                    elif bound != val:
                        break
                elif pat != val:
                    break
            else:
                if walk(i + 1, nb):
                    return True
        return False

    walk(0, {})
    return found


_ALLOWED_OPS = {"InsertData", "DeleteData", "DeleteWhere", "Modify"}
_FORBIDDEN = {"GraphGraphPattern": "GRAPH", "QuadsNotTriples": "GRAPH",
              "ServiceGraphPattern": "SERVICE", "UsingClause": "USING"}
_OX_POSITION = re.compile(r"at (\d+):(\d+)")


def _forbidden(node: Any) -> str | None:
    """Name the first GRAPH/SERVICE/USING construct anywhere under ``node``."""
    if isinstance(node, CompValue):
        if node.name in _FORBIDDEN:
            return _FORBIDDEN[node.name]
        children: Any = dict.values(node)
    elif isinstance(node, (list, tuple, ParseResults)):
        children = node
    else:
        return None
    return next(filter(None, map(_forbidden, children)), None)


def parse_sparql_update(body: bytes, base_iri: str) -> ParsedPatch:
    """Validate a SPARQL 1.1 Update (§3.1.1-3.1.3 only) that touches just the default graph."""
    text = _decode(body)
    try:
        ops = _sparql_ops(text, base_iri)
    except ParseBaseException as e:
        raise InvalidSyntax(f"SPARQL syntax error at line {e.lineno}, column {e.col}: {e.msg}",
                            line=e.lineno, column=e.col) from None
    except RecursionError:
        raise InvalidSyntax("SPARQL update nested too deeply") from None
    names = {op.name for op in ops}
    deletes = bool(names & {"DeleteData", "DeleteWhere"}) or any(
        op.name == "Modify" and "delete" in op for op in ops)
    return _SparqlPatch(bool(names & {"Modify", "DeleteWhere"}), deletes, text, base_iri)


def _sparql_ops(text: str, base_iri: str) -> list[CompValue]:
    """Parse with rdflib, refuse what is not allowed (422), then let pyoxigraph parse it too."""
    parsed = parseUpdate(text)
    ops = list(parsed.request)
    for op in ops:
        if op.name not in _ALLOWED_OPS:
            raise Unprocessable(f"SPARQL {op.name} is not supported in a PATCH")
        found = "WITH" if "withClause" in op else _forbidden(op)
        if found:
            raise Unprocessable(f"SPARQL {found} is not supported: a resource is one default graph")
    try:
        translateUpdate(parsed, base=base_iri)
        ox.Store().update(text, base_iri=base_iri)  # the evaluator's own parser must agree
    except SyntaxError as e:
        raise _ox_syntax(e) from None
    except (RecursionError, PodError):
        raise
    except Exception as e:  # rdflib reports unknown prefixes and the like by plain exceptions
        raise InvalidSyntax(f"SPARQL error: {e}") from None
    return ops


def _ox_syntax(e: SyntaxError) -> InvalidSyntax:
    m = _OX_POSITION.search(str(e))
    where = {"line": int(m[1]), "column": int(m[2])} if m else {}
    return InvalidSyntax(f"SPARQL syntax error: {e}", **where)


class _SparqlPatch(ParsedPatch):
    __slots__ = ("_base", "_text")

    def __init__(self, reads: bool, deletes: bool, text: str, base: str) -> None:
        super().__init__(reads, deletes)
        self._text, self._base = text, base

    def apply(self, graph: set[ox.Triple]) -> set[ox.Triple]:
        """Evaluate the update over a scratch store holding ``graph`` as its default graph."""
        store = ox.Store()
        store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in graph)
        try:
            store.update(self._text, base_iri=self._base)
        except SyntaxError as e:
            raise _ox_syntax(e) from None
        return {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
