"""Triple patterns over a document's triples: the matcher behind N3 Patch's ``solid:where`` and
SPARQL Update's ``WHERE`` (a basic graph pattern, SPARQL 1.1 Query §18.3.1).

Matching is backtracking over the document's triples with a budget on the triples examined, so
an adversarial cross product of patterns answers 422 instead of holding the server.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from rdflib.term import Variable

from pod.errors import Conflict, Unprocessable

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Node = Term | Variable
Pattern = tuple[Node, Node, Node]
Binding = dict[Variable, Term]

MATCH_BUDGET = 250_000
"""Steps (triples examined, template triples made) a patch may take before it is refused."""


class OverBudget(Unprocessable):
    """A patch that would take more steps than its budget."""
MAX_PATTERNS = 500
"""Triple patterns one ``where`` may hold (matching recurses once per pattern)."""


def _triple(s: object, p: object, o: object) -> ox.Triple:
    """``ox.Triple(s, p, o)`` of terms that may not fit: ``TypeError`` (as pyoxigraph raises)
    for a variable, an unbound one (``None``), a literal subject or a non-IRI predicate."""
    if (isinstance(s, ox.NamedNode | ox.BlankNode | ox.Triple) and isinstance(p, ox.NamedNode)
            and isinstance(o, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple)):
        return ox.Triple(s, p, o)
    raise TypeError(f"not a triple: {s} {p} {o}")


def variables(patterns: list[Pattern]) -> set[Variable]:
    return {x for t in patterns for x in t if isinstance(x, Variable)}


def ground(patterns: list[Pattern], bnodes_ok: bool) -> tuple[set[ox.Triple], list[Pattern]]:
    """Split templates into ready triples and ones needing variables or fresh blank nodes."""
    kinds = (Variable, ox.BlankNode) if bnodes_ok else Variable

    def open_(t: Pattern) -> bool:
        return any(isinstance(x, kinds) for x in t)

    return {_triple(*t) for t in patterns if not open_(t)}, [t for t in patterns if open_(t)]


def instantiate(patterns: list[Pattern], binding: Binding,
                fresh: dict[ox.BlankNode, ox.BlankNode] | None, *,
                strict: bool = True) -> set[ox.Triple]:
    """Substitute a solution (and fresh blank nodes when ``fresh`` is given) into templates.
    ``strict``: a template that makes no valid triple is a 409 (N3 Patch); otherwise it is
    skipped, as SPARQL Update §3.1.3 says of unbound variables and literal subjects."""
    out: set[ox.Triple] = set()
    for pattern in patterns:
        terms: list[Node | None] = []
        for x in pattern:
            term: Node | None = x
            if isinstance(x, Variable):
                term = binding.get(x)
            elif fresh is not None and isinstance(x, ox.BlankNode):
                term = fresh.get(x) or fresh.setdefault(x, ox.BlankNode())
            terms.append(term)
        try:
            out.add(_triple(*terms))
        except TypeError:
            if strict:
                raise Conflict(f"not a valid triple: {' '.join(map(str, terms))}") from None
    return out


def order(patterns: list[Pattern]) -> list[Pattern]:
    """Ground patterns first: they are cheap membership tests that prune early."""
    return sorted(patterns, key=lambda t: sum(isinstance(x, Variable) for x in t))


def match(patterns: list[Pattern], graph: set[ox.Triple], limit: int = 2,
          budget: int = MATCH_BUDGET) -> list[Binding]:
    """Solutions of a basic graph pattern, by backtracking; stops after ``limit`` solutions.
    Raises :class:`OverBudget` (422) once ``budget`` triples have been examined."""
    if len(patterns) > MAX_PATTERNS:
        raise Unprocessable(f"a pattern of more than {MAX_PATTERNS} triples is not supported")
    found: list[Binding] = []
    left = [budget]
    index: dict[Term, list[ox.Triple]] = {}

    def spend() -> None:
        left[0] -= 1
        if left[0] < 0:
            raise OverBudget("the pattern is too costly to evaluate on this document")

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
            spend()
            try:
                hit = _triple(s, p, o) in graph
            except TypeError:  # a literal bound in subject position matches nothing
                return False
            return hit and walk(i + 1, b)
        for t in candidates(p):
            spend()
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
