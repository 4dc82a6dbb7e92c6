"""Bar charts as SVG geometry, drawn on the server: the template writes the ``<svg>`` from
these numbers (escaped like any other text), so no JavaScript is needed to see them. A
suppressed figure has no bar and says "fewer than k"."""

from __future__ import annotations

from dataclasses import dataclass

from apps.shared_view.aggregate import Cell

WIDTH = 640
BAR = 22
GAP = 8
LABEL = 170  # room for the labels left of the bars


@dataclass(frozen=True)
class Bar:
    """One row of a horizontal bar chart."""

    y: int
    width: int
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: its size, bars and an accessible title."""

    title: str
    width: int
    height: int
    label_width: int
    bars: tuple[Bar, ...]


def bar_chart(title: str, cells: list[Cell], k: int) -> Chart:
    """A chart of ``cells``; the longest bar is the largest shown count."""
    largest = max((c.count for c in cells if c.count is not None), default=0)
    room = WIDTH - LABEL - 90
    bars = []
    for n, c in enumerate(cells):
        length = round(room * c.count / largest) if c.count and largest else 0
        value = f"fewer than {k}" if c.count is None else str(c.count)
        bars.append(Bar(n * (BAR + GAP), length, c.label, value))
    return Chart(title, WIDTH, max(len(cells), 1) * (BAR + GAP), LABEL, tuple(bars))
