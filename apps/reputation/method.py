"""Reputation from the rules and the consented inputs (pure: no I/O). docs/reputation.md
explains both methods with a worked example.

Inputs count once each, and only between members who consent: a contribution of a member; an
appreciation by one member of another's contribution; an endorsement by one member of another.
Appreciating one's own work or endorsing oneself counts for nothing, as does a second
appreciation of the same contribution or endorsement of the same member by the same member.

- ``points``: each input's weight is its points (a contribution: the highest points among its
  kinds, plus ``points_per_hour`` × its hours; an appreciation: ``appreciation_weight``; an
  endorsement: ``endorsement_weight``), credited to the member it is about.
- ``pagerank``: a directed graph community → contributions (weight: the contribution's points),
  contribution → its contributor, appreciating member → appreciated contribution
  (``appreciation_weight``), endorsing member → endorsed member (``endorsement_weight``),
  ranked with :func:`networkx.pagerank` (``alpha`` = ``damping``, teleporting to the community
  only, SourceCred-style). A member's flow is what reaches them along their in-edges,
  ``alpha · PR(source) · w / out-weight(source)``; the flow through a contribution is split among
  what flowed into it (its points from the community, each appreciation) in proportion.

Either way the scores are normalised to add up to 1, and each member's score is exactly the sum
of the shares of the inputs that counted for them (the "why" page lists them).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import networkx as nx

from apps.rules.model import PAGERANK, Rules

CONTRIBUTION, APPRECIATION, ENDORSEMENT = "contribution", "appreciation", "endorsement"


@dataclass(frozen=True)
class Work:
    """A member's contribution: its IRI, contributor, kinds and hours of effort (if given)."""

    iri: str
    provider: str
    kinds: tuple[str, ...]
    hours: Decimal | None = None


@dataclass(frozen=True)
class Thanks:
    """An appreciation by member ``by`` of the contribution ``of``."""

    iri: str
    by: str
    of: str


@dataclass(frozen=True)
class Endorsement:
    """An endorsement by member ``by`` of member ``of``."""

    iri: str
    by: str
    of: str


@dataclass
class Inputs:
    """What the consenting members granted: their contributions, appreciations, endorsements."""

    members: set[str] = field(default_factory=set)
    works: list[Work] = field(default_factory=list)
    thanks: list[Thanks] = field(default_factory=list)
    endorsements: list[Endorsement] = field(default_factory=list)


@dataclass(frozen=True)
class Item:
    """One input that counted for a member: what it is, its IRI, who gave it (the community
    for a contribution's own points), its weight under the rules and its share of the whole."""

    what: str
    iri: str
    source: str
    weight: Decimal
    share: float


@dataclass
class Score:
    """A member's score (their share of the whole, 0..1) and every input behind it."""

    member: str
    score: float = 0.0
    items: list[Item] = field(default_factory=list)


@dataclass
class Result:
    """Every member's score under one version of the rules."""

    rules: Rules
    scores: dict[str, Score]


def work_points(rules: Rules, work: Work) -> Decimal:
    """A contribution's weight: the highest points among its kinds, plus its hours' worth."""
    best = max((rules.points_for(k) for k in work.kinds), default=Decimal(0))
    return best + (work.hours or Decimal(0)) * rules.points_per_hour


@dataclass
class _Counted:
    """The inputs that count, deduplicated, between consenting members only."""

    works: dict[str, Work]
    thanks: list[Thanks]
    endorsements: list[Endorsement]


def _counted(inputs: Inputs) -> _Counted:
    members = inputs.members
    works = {w.iri: w for w in sorted(inputs.works, key=lambda w: w.iri)
             if w.provider in members}
    seen: set[tuple[str, str]] = set()
    thanks = []
    for t in sorted(inputs.thanks, key=lambda t: t.iri):
        work = works.get(t.of)
        if work is None or t.by not in members or t.by == work.provider or (t.by, t.of) in seen:
            continue
        seen.add((t.by, t.of))
        thanks.append(t)
    seen.clear()
    endorsements = []
    for e in sorted(inputs.endorsements, key=lambda e: e.iri):
        if e.by not in members or e.of not in members or e.by == e.of or (e.by, e.of) in seen:
            continue
        seen.add((e.by, e.of))
        endorsements.append(e)
    return _Counted(works, thanks, endorsements)


def _normalised(rules: Rules, members: set[str], flows: dict[str, list[tuple[Item, float]]]
                ) -> Result:
    total = sum(f for items in flows.values() for _, f in items)
    scores = {m: Score(m) for m in sorted(members)}
    for member, items in flows.items():
        score = scores[member]
        for item, flow in items:
            share = flow / total if total > 0 else 0.0
            score.items.append(Item(item.what, item.iri, item.source, item.weight, share))
        score.items.sort(key=lambda i: (-i.share, i.iri))
        score.score = sum(i.share for i in score.items)
    return Result(rules, scores)


def points(rules: Rules, inputs: Inputs, community: str) -> Result:
    """The ``points`` method: each input's weight, credited to whom it is about."""
    c = _counted(inputs)
    flows: dict[str, list[tuple[Item, float]]] = defaultdict(list)
    for w in c.works.values():
        weight = work_points(rules, w)
        flows[w.provider].append((Item(CONTRIBUTION, w.iri, community, weight, 0), float(weight)))
    for t in c.thanks:
        weight = rules.appreciation_weight
        flows[c.works[t.of].provider].append((Item(APPRECIATION, t.iri, t.by, weight, 0),
                                              float(weight)))
    for e in c.endorsements:
        weight = rules.endorsement_weight
        flows[e.of].append((Item(ENDORSEMENT, e.iri, e.by, weight, 0), float(weight)))
    return _normalised(rules, inputs.members, flows)


def pagerank(rules: Rules, inputs: Inputs, community: str) -> Result:
    """The ``pagerank`` method (see the module's docstring)."""
    c = _counted(inputs)
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_node(community)
    graph.add_nodes_from(inputs.members)
    into: dict[str, list[tuple[Item, float]]] = defaultdict(list)  # contribution's inflows
    for w in c.works.values():
        graph.add_edge(w.iri, w.provider, weight=1.0)
        weight = work_points(rules, w)
        if weight > 0:
            graph.add_edge(community, w.iri, weight=float(weight))
        into[w.iri].append((Item(CONTRIBUTION, w.iri, community, weight, 0), float(weight)))
    for t in c.thanks:
        graph.add_edge(t.by, t.of, weight=float(rules.appreciation_weight))
    for e in c.endorsements:
        graph.add_edge(e.by, e.of, weight=float(rules.endorsement_weight))
    if not c.works and not c.endorsements:
        return _normalised(rules, inputs.members, {})
    rank = nx.pagerank(graph, alpha=float(rules.damping), personalization={community: 1.0},
                       weight="weight", tol=1e-12, max_iter=1000)
    alpha = float(rules.damping)
    out: dict[str, float] = {
        node: float(sum(d["weight"] for _, _, d in graph.out_edges(node, data=True)))
        for node in graph.nodes}

    def flow(source: str, target: str) -> float:
        weight = float(graph[source][target]["weight"])
        return alpha * float(rank[source]) * weight / out[source]

    for t in c.thanks:  # what each appreciation brings into the contribution
        into[t.of].append((Item(APPRECIATION, t.iri, t.by, rules.appreciation_weight, 0),
                           flow(t.by, t.of)))
    flows: dict[str, list[tuple[Item, float]]] = defaultdict(list)
    for w in c.works.values():
        inflows = into[w.iri]
        inflows[0] = (inflows[0][0], flow(community, w.iri) if graph.has_edge(
            community, w.iri) else 0.0)
        total_in = sum(f for _, f in inflows)
        through = flow(w.iri, w.provider)
        for item, f in inflows:
            flows[w.provider].append((item, through * f / total_in if total_in > 0 else 0.0))
    for e in c.endorsements:
        flows[e.of].append((Item(ENDORSEMENT, e.iri, e.by, rules.endorsement_weight, 0),
                            flow(e.by, e.of)))
    return _normalised(rules, inputs.members, flows)


def compute(rules: Rules, inputs: Inputs, community: str) -> Result:
    """Every member's score under ``rules`` (its method), ``community`` being the source."""
    method = pagerank if rules.method == PAGERANK else points
    return method(rules, inputs, community)
