"""Differential privacy for the published counts, with OpenDP's Laplace mechanism (never a
hand-written one), and the privacy budget.

A *release* is one set of noisy figures: every shown cell of every table (the total, by
project, by kind, by month) gets integer Laplace noise from ``opendp.measurements
.make_laplace`` over the vector of counts. To bound what one member can change, a release
counts at most ``cap`` contributions per member, each once per table (its first project and
first kind), so one member moves the vector by at most ``4 × cap`` in L1 distance; the scale
is ``4 × cap / ε`` and the loss OpenDP reports for that distance (``map``) is what the ledger
records. A new release is made only when the exact figures changed (publishing the same
noisy figures again costs nothing) and only while the budget allows; once it is spent the
last release stays up. Which cells are suppressed is decided on exact member counts, before
noise: that choice itself is not differentially private, which the dashboard says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import opendp.prelude as dp

from apps.shared_view.aggregate import Cell, Figures, figures
from apps.shared_view.cache import Fact
from apps.shared_view.model import Ledger, Release, Settings

dp.enable_features("contrib")
TABLES = 4


@dataclass
class Released:
    """The noisy figures last published, and what they were computed from."""

    figures: Figures
    fingerprint: str
    release: Release


def clipped(facts_by_member: Iterable[tuple[str, list[Fact]]], cap: int
            ) -> list[tuple[str, list[Fact]]]:
    """Each member's facts, at most ``cap`` of them (the earliest months first)."""
    return [(m, sorted(f, key=lambda x: (x.month or "", x.projects, x.kinds))[:cap])
            for m, f in facts_by_member]


def _fingerprint(exact: Figures) -> str:
    shape = [(c.key, c.count) for table in exact.tables() for c in table]
    return hashlib.sha256(repr(shape).encode()).hexdigest()


def laplace(sensitivity: int, epsilon: Decimal) -> Any:
    """OpenDP's integer Laplace measurement over a vector of counts whose L1 sensitivity is
    ``sensitivity``, scaled for ``epsilon``."""
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    return dp.m.make_laplace(*space, scale=float(sensitivity) / float(epsilon))


def _noised(exact: Figures, noisy_counts: list[int]) -> Figures:
    values = iter(noisy_counts)

    def cell(c: Cell) -> Cell:
        return c if c.suppressed else replace(c, count=max(0, next(values)))

    return replace(exact, total=cell(exact.total), by_project=[cell(c) for c in exact.by_project],
                   by_kind=[cell(c) for c in exact.by_kind],
                   by_month=[cell(c) for c in exact.by_month], noisy=True)


def release(facts_by_member: Iterable[tuple[str, list[Fact]]], settings: Settings,
            ledger: Ledger, last: Released | None, *, cap: int) -> Released | None:
    """New noisy figures, or ``None`` when none may or need be made: the exact figures did not
    change since ``last``, or the budget has no room for another release. When every figure
    is withheld the "release" publishes nothing and costs nothing (``epsilon`` 0)."""
    projects = {p.iri: p.name for p in settings.projects}
    exact = figures(clipped(facts_by_member, cap), k=settings.k, projects=projects,
                    one_per_table=True)
    fingerprint = _fingerprint(exact)
    if last is not None and last.fingerprint == fingerprint:
        return None
    counts = [c.count for table in exact.tables() for c in table if c.count is not None]
    if not counts:  # every figure withheld: nothing is published, nothing spent
        return Released(replace(exact, noisy=True), fingerprint,
                        Release(datetime.now(UTC), Decimal(0)))
    sensitivity = TABLES * cap
    measurement = laplace(sensitivity, settings.epsilon)
    cost = Decimal(str(measurement.map(sensitivity))).quantize(Decimal("0.000001"))
    if ledger.spent + cost > settings.budget:
        return None
    return Released(_noised(exact, list(measurement(counts))), fingerprint,
                    Release(datetime.now(UTC), cost))
