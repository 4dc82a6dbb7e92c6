"""The dashboard's figures from the cached facts: contributions by project, kind and month,
totals and the trend, each with how many members it is drawn from, and k-suppression — a
figure drawn from fewer than k members is withheld (shown as "fewer than k").

Counting is exact here; :mod:`apps.shared_view.privacy` adds noise to what is shown, when the
community asks for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from apps.shared_view.cache import KINDS, Fact
from vocab.terms import terms

_LABELS = {t.iri: t.label for t in terms()}


@dataclass
class Cell:
    """One figure: a label, the count, and how many members it is drawn from. ``count`` is
    ``None`` once suppressed."""

    key: str
    label: str
    count: int | None
    members: int

    @property
    def suppressed(self) -> bool:
        return self.count is None


@dataclass
class Figures:
    """Everything the dashboard shows, suppressed where it must be."""

    k: int
    members: int  # members whose contributions were counted
    total: Cell
    by_project: list[Cell] = field(default_factory=list)
    by_kind: list[Cell] = field(default_factory=list)
    by_month: list[Cell] = field(default_factory=list)
    noisy: bool = False

    def tables(self) -> list[list[Cell]]:
        """The figures as tables (the total is one of one cell), in a fixed order."""
        return [[self.total], self.by_project, self.by_kind, self.by_month]

    @property
    def trend(self) -> tuple[Cell, Cell] | None:
        """The last two months both shown (earlier, later), for the change between them."""
        shown = [c for c in self.by_month if not c.suppressed]
        return (shown[-2], shown[-1]) if len(shown) >= 2 else None


def kind_label(iri: str) -> str:
    return _LABELS.get(iri, iri)


def _cells(counts: dict[str, int], people: dict[str, set[str]], keys: Iterable[str],
           label: dict[str, str], k: int) -> list[Cell]:
    return [Cell(key, label.get(key, key),
                 counts.get(key, 0) if len(people.get(key, ())) >= k else None,
                 len(people.get(key, ())))
            for key in keys]


def figures(facts_by_member: Iterable[tuple[str, list[Fact]]], *, k: int,
            projects: dict[str, str], one_per_table: bool = False) -> Figures:
    """The figures of ``facts_by_member`` ((member, facts) pairs). ``projects`` are the
    tracked projects (IRI → name; none: every project met). With ``one_per_table`` a
    contribution counts once per table (its first project and first kind): what the noisy
    release needs to bound one member's weight."""
    counts: dict[str, dict[str, int]] = {"project": {}, "kind": {}, "month": {}}
    people: dict[str, dict[str, set[str]]] = {"project": {}, "kind": {}, "month": {}}
    total, everyone = 0, set()
    for member, facts in facts_by_member:
        if not facts:
            continue
        everyone.add(member)
        for fact in facts:
            total += 1
            parts = {"project": fact.projects, "kind": fact.kinds,
                     "month": (fact.month,) if fact.month else ()}
            for table, keys in parts.items():
                for key in sorted(keys)[:1] if one_per_table else keys:
                    counts[table][key] = counts[table].get(key, 0) + 1
                    people[table].setdefault(key, set()).add(member)
    project_keys = list(projects) or sorted(counts["project"])
    return Figures(
        k=k, members=len(everyone),
        total=Cell("total", "All contributions", total if len(everyone) >= k else None,
                   len(everyone)),
        by_project=_cells(counts["project"], people["project"], project_keys, projects, k),
        by_kind=_cells(counts["kind"], people["kind"], KINDS,
                       {iri: kind_label(iri) for iri in KINDS}, k),
        by_month=_cells(counts["month"], people["month"], sorted(counts["month"]), {}, k))
