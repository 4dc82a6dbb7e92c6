"""Reading what members granted, through the SDK, as the community: every member's
grants (``/.api/grants/mine``: what they allow, and where statements may be appended), then
the contributions, appreciations and endorsements they allow (``/.api/collect``, many pods at
once with :class:`~apps.sdk.Community`). A member who no longer grants reading their
contributions (or whose pod answers 403) no longer consents: they count for nothing (and the
caller removes them). Appreciations and endorsements are optional needs: one not granted is
none given. An unreachable pod is reported, and its
member counts for nothing this time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal

import pyoxigraph as ox

from apps.reputation.method import Endorsement, Inputs, Thanks, Work
from apps.sdk import (
    Appreciation,
    Collected,
    Community,
    Contribution,
    Forbidden,
    PodClient,
    ReputationStatement,
)
from apps.shared_view.model import Member
from vocab.namespaces import CRED, OBV3, OM2, RDF, iri_of

CONTRIBUTION_CLASS, APPRECIATION_CLASS = Contribution.cls, Appreciation.cls
ENDORSEMENT_CLASS = iri_of(OBV3.EndorsementCredential)
STATEMENT_CLASS = ReputationStatement.cls
_TYPE = ox.NamedNode(iri_of(RDF.type))
_SUBJECT = ox.NamedNode(iri_of(CRED.credentialSubject))
_HOUR = iri_of(OM2.hour)


class Withdrawn(Exception):
    """A member who no longer grants reading their contributions."""


@dataclass
class Gathered:
    """One reading: the inputs, who withdrew (403) and which pods could not be read."""

    inputs: Inputs
    targets: dict[str, str] = field(default_factory=dict)  # WebID → where to append
    withdrawn: set[str] = field(default_factory=set)
    unreachable: dict[str, str] = field(default_factory=dict)  # WebID → why


@dataclass
class _Theirs:
    works: list[Work]
    thanks: list[Thanks]
    endorsements: list[Endorsement]
    target: str | None  # where statements may be appended


def _hours(c: Contribution) -> Decimal | None:
    if c.effort is None or c.effort.unit != _HOUR:
        return None
    return Decimal(str(c.effort.value))


async def _optional(client: PodClient, pod: str, cls: str) -> Collected | None:
    """A class the grant may not cover after all: ``None`` then."""
    try:
        return await client.collect(pod, cls)
    except Forbidden:
        return None


async def read_member(client: PodClient, pod: str, webid: str) -> _Theirs:
    """One member's grants, then what they allow: their contributions (theirs only; no grant
    to read them is :class:`Withdrawn`, no consent), appreciations and endorsements,
    and where statements may be appended."""
    permissions = [p for g in await client.grants(pod) for p in g.permissions]
    readable = {p.cls for p in permissions if "read" in p.modes}
    unnamed = None in readable  # a grant naming no class: what it covers is tried
    if CONTRIBUTION_CLASS not in readable and not unnamed:
        raise Withdrawn(f"{webid} grants no reading of contributions")
    target = next((p.target for p in permissions
                   if p.cls == STATEMENT_CLASS and "append" in p.modes), None)
    wanted = [c for c in (APPRECIATION_CLASS, ENDORSEMENT_CLASS) if c in readable or unnamed]
    found = await asyncio.gather(client.collect(pod, Contribution),
                                 *(_optional(client, pod, c) for c in wanted))
    by_class = {c: f for c, f in zip(wanted, found[1:], strict=True) if f is not None}
    contributions = found[0]
    assert contributions is not None  # collect itself returns or raises
    works = [Work(c.id, webid, c.kinds, _hours(c)) for c in contributions.records
             if isinstance(c, Contribution) and c.provider == webid and c.id]
    thanks: list[Thanks] = []
    if APPRECIATION_CLASS in by_class:
        thanks = [Thanks(a.id, webid, a.appreciation_of) for a in by_class[APPRECIATION_CLASS]
                  .records if isinstance(a, Appreciation) and a.id]
    endorsements: list[Endorsement] = []
    if ENDORSEMENT_CLASS in by_class:
        graph = by_class[ENDORSEMENT_CLASS].graph
        for node in graph.subjects(_TYPE, ox.NamedNode(ENDORSEMENT_CLASS)):
            subject = graph.value(node, _SUBJECT)
            if isinstance(node, ox.NamedNode) and isinstance(subject, ox.NamedNode):
                endorsements.append(Endorsement(node.value, webid, subject.value))
    return _Theirs(works, thanks, endorsements, target)


async def gather(app: PodClient, members: dict[str, Member], *, concurrency: int,
                 timeout: float) -> Gathered:
    """Every member's inputs, read as the community."""
    by_pod = {m.pod: m for m in members.values()}
    result = Gathered(Inputs())

    async def work(client: PodClient, pod: str) -> _Theirs:
        return await read_member(client, pod, by_pod[pod].webid)

    async for done in Community(app, concurrency=concurrency, timeout=timeout).each(by_pod, work):
        member = by_pod[done.member]
        if done.ok and done.value is not None:
            result.inputs.members.add(member.webid)
            result.inputs.works += done.value.works
            result.inputs.thanks += done.value.thanks
            result.inputs.endorsements += done.value.endorsements
            if done.value.target is not None:
                result.targets[member.webid] = done.value.target
        elif isinstance(done.error, Withdrawn | Forbidden):
            result.withdrawn.add(member.webid)
        else:
            result.unreachable[member.webid] = f"{type(done.error).__name__}: {done.error}"[:300]
    return result
