"""The rules in the community's pod, through the SDK: every version, proposals, approvals.

Under ``rules/`` in the community's pod:

- ``v1.ttl``, ``v2.ttl``, …: one document per version (``apps.rules.document``), written once
  (``If-None-Match: *``) and never changed; the highest is in force;
- ``proposal-ID.ttl``: a member's proposal (``cp:RulesProposal``) with the rules it proposes
  (``<#rules>``), who proposed it and when, the version it changes, each approval
  (``cp:Approval``: who, when) and, once adopted, the version it became (``cp:adoptedAs``).

A proposal takes effect when ``quorum`` members (the quorum of the rules in force) approved it
and the rules it changes are still in force; one overtaken by another change is closed as stale
and can be proposed again. Documents are changed only over the version read (ETags), through
the shared view's :class:`~apps.shared_view.pod_store.CommunityPod`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pyoxigraph as ox

from apps.rules import document
from apps.rules.model import Rules, default_rules
from apps.sdk import Graph, NotFound, PodClient, PreconditionFailed
from apps.shared_view.pod_store import CommunityPod
from vocab.namespaces import LDP, PROV, RDF, SCHEMA, XSD, iri_of
from vocab.terms import CP

FOLDER = "rules/"
MAX_REASON = 2000


def _n(term: object) -> ox.NamedNode:
    return ox.NamedNode(iri_of(term))  # type: ignore[arg-type]


_TYPE, _BY, _AT = _n(RDF.type), _n(PROV.wasAttributedTo), _n(PROV.generatedAtTime)
_REVISES, _ADOPTED, _APPROVES = _n(PROV.wasRevisionOf), _n(CP.adoptedAs), _n(CP.approves)
_DATETIME = _n(XSD.dateTime)


class ProposalError(ValueError):
    """A proposal or approval that cannot be made; the message is for the member."""


@dataclass(frozen=True)
class Approval:
    """One member's approval: who (WebID) and when."""

    by: str
    at: datetime


@dataclass(frozen=True)
class Proposal:
    """A proposed change of the rules."""

    id: str
    url: str  # the proposal's document in the community pod
    by: str
    at: datetime
    reason: str
    base: int  # the version it changes
    rules: Rules  # what it proposes (numbered base + 1, stored in the proposal)
    approvals: tuple[Approval, ...] = ()
    adopted: str | None = None  # the version document it became
    stale: bool = False  # overtaken by another change before its quorum (never stored)

    @property
    def open(self) -> bool:
        return self.adopted is None and not self.stale


def _when(value: datetime) -> ox.Literal:
    return ox.Literal(value.isoformat(), datatype=_DATETIME)


def _time(graph: Graph, node: object) -> datetime:
    found = graph.value(node, _AT)
    return datetime.fromisoformat(found.value) if isinstance(found, ox.Literal) else \
        datetime.min.replace(tzinfo=UTC)


class RulesStore:
    """The community's rules: the version in force, every earlier one, and changes."""

    def __init__(self, app: PodClient, community_pod: str) -> None:
        if not community_pod.endswith("/"):
            raise ValueError("community_pod is a pod URL ending in /")
        self.app = app
        self.pod = CommunityPod(app, community_pod, FOLDER)
        self.folder = self.pod.folder
        self._latest = 0  # the highest version seen so far (versions only ever grow)
        self._lock = asyncio.Lock()

    def version_url(self, n: int) -> str:
        return f"{self.folder}v{n}.ttl"

    async def _exists(self, n: int) -> bool:
        try:
            await self.app.head(self.version_url(n))
        except NotFound:
            return False
        return True

    async def in_force(self) -> Rules:
        """The latest approved version (version 1, the default rules, written if none)."""
        while await self._exists(self._latest + 1):
            self._latest += 1
        if self._latest == 0:
            first = default_rules(self.version_url(1))
            with contextlib.suppress(PreconditionFailed):  # another writer's v1 came first
                await self.app.put(first.iri, document.rules_graph(first).to_turtle(),
                                   content_type="text/turtle", if_none_match="*")
            self._latest = 1
        return await self.version(self._latest)

    async def version(self, n: int) -> Rules:
        """Version ``n`` (:class:`~apps.sdk.NotFound` when there is none)."""
        url = self.version_url(n)
        got = await self.app.get(url, accept="text/turtle")
        return document.rules_from(got.graph(), url, n)

    async def versions(self) -> list[Rules]:
        """Every version, oldest first."""
        await self.in_force()
        return list(await asyncio.gather(*(self.version(n) for n in range(1, self._latest + 1))))

    # --- proposals and approvals ------------------------------------------------------------

    def _proposal_graph(self, p: Proposal) -> Graph:
        url = p.url
        g = document.rules_graph(p.rules, self.version_url(p.base))
        it = ox.NamedNode(url + "#proposal")
        g.add(it, _TYPE, _n(CP.RulesProposal))
        g.add(it, _n(CP.proposes), ox.NamedNode(p.rules.iri))
        g.add(it, _REVISES, ox.NamedNode(self.version_url(p.base)))
        g.add(it, _BY, ox.NamedNode(p.by))
        g.add(it, _AT, _when(p.at))
        g.add(it, _n(SCHEMA.description), ox.Literal(p.reason))
        for i, approval in enumerate(p.approvals, 1):
            node = ox.NamedNode(f"{url}#approval-{i}")
            g.add(node, _TYPE, _n(CP.Approval))
            g.add(node, _APPROVES, it)
            g.add(node, _BY, ox.NamedNode(approval.by))
            g.add(node, _AT, _when(approval.at))
        if p.adopted:
            g.add(it, _ADOPTED, ox.NamedNode(p.adopted))
        return g

    def _proposal_from(self, url: str, graph: Graph, in_force: int) -> Proposal:
        it = ox.NamedNode(url + "#proposal")
        base = graph.value(it, _REVISES)
        by = graph.value(it, _BY)
        if not isinstance(base, ox.NamedNode) or not isinstance(by, ox.NamedNode):
            raise ProposalError(f"{url} is no proposal")
        number = int(base.value.removeprefix(self.folder + "v").removesuffix(".ttl"))
        reason = graph.value(it, _n(SCHEMA.description))
        # the proposed rules are what the proposal names, apart from the proposal's own triples
        rules = document.rules_from(graph, url + "#rules", number + 1)
        approvals = sorted((Approval(b.value, _time(graph, a))
                            for a in graph.subjects(_APPROVES, it)
                            if isinstance(b := graph.value(a, _BY), ox.NamedNode)),
                           key=lambda a: a.at)
        adopted = graph.value(it, _ADOPTED)
        done = adopted.value if isinstance(adopted, ox.NamedNode) else None
        return Proposal(url.rsplit("proposal-", 1)[-1].removesuffix(".ttl"), url, by.value,
                        _time(graph, it), reason.value if isinstance(reason, ox.Literal) else "",
                        number, rules, tuple(approvals), done,
                        stale=done is None and number != in_force)

    def proposal_url(self, proposal_id: str) -> str:
        if not proposal_id.isalnum() or len(proposal_id) > 40:
            raise ProposalError("no such proposal")
        return f"{self.folder}proposal-{proposal_id}.ttl"

    async def propose(self, by: str, text: str, reason: str = "") -> Proposal:
        """``by`` proposes the rules document ``text`` (Turtle) in place of the rules in
        force; :class:`~apps.rules.document.RulesError` when it is no usable rules document,
        :class:`ProposalError` when it changes nothing."""
        current = await self.in_force()
        made = secrets.token_hex(8)
        url = self.proposal_url(made)
        rules = document.parse_rules(text, url + "#rules", current.version + 1)
        if not document.diff(current, rules):
            raise ProposalError("this proposal changes nothing")
        proposal = Proposal(made, url, by, datetime.now(UTC).replace(microsecond=0),
                            reason.strip()[:MAX_REASON], current.version, rules)
        await self.app.put(url, self._proposal_graph(proposal).to_turtle(),
                           content_type="text/turtle", if_none_match="*")
        return proposal

    async def proposal(self, proposal_id: str) -> Proposal:
        """One proposal (:class:`ProposalError` when there is none)."""
        url = self.proposal_url(proposal_id)
        graph, etag = await self.pod.read_document(url)
        if etag is None:
            raise ProposalError("no such proposal")
        return self._proposal_from(url, graph, (await self.in_force()).version)

    async def proposals(self) -> list[Proposal]:
        """Every proposal, newest first."""
        try:
            listing = (await self.app.get(self.folder, accept="text/turtle")).graph()
        except NotFound:
            return []
        urls = [t.object.value for t in listing.triples(ox.NamedNode(self.folder),
                                                       _n(LDP.contains))
                if isinstance(t.object, ox.NamedNode) and "/proposal-" in t.object.value]
        found = await asyncio.gather(*(self.proposal(u.rsplit("proposal-", 1)[-1]
                                                     .removesuffix(".ttl")) for u in urls))
        return sorted(found, key=lambda p: p.at, reverse=True)

    async def approve(self, proposal_id: str, by: str) -> Proposal:
        """``by`` approves a proposal; it takes effect as the next version once the quorum of
        the rules in force approved it. Approving twice counts once."""
        url = self.proposal_url(proposal_id)
        async with self._lock:
            current = await self.in_force()
            result: list[Proposal] = []

            def change(graph: Graph) -> Graph:
                p = self._proposal_from(url, graph, current.version)
                if p.stale:
                    raise ProposalError(f"the rules changed (version {current.version} is in "
                                        "force) since this was proposed; propose it again")
                if p.adopted is not None:
                    raise ProposalError("this proposal was adopted already")
                if all(a.by != by for a in p.approvals):
                    at = datetime.now(UTC).replace(microsecond=0)
                    p = replace(p, approvals=(*p.approvals, Approval(by, at)))
                result[:] = [p]
                return self._proposal_graph(p)

            if (await self.pod.read_document(url))[1] is None:
                raise ProposalError("no such proposal")
            await self.pod.update_document(url, change)
            proposal = result[0]
            if len(proposal.approvals) < current.quorum:
                return proposal
            adopted = replace(proposal.rules, version=current.version + 1,
                              iri=self.version_url(current.version + 1))
            await self.app.put(adopted.iri, document.rules_graph(adopted, current.iri)
                               .to_turtle(), content_type="text/turtle", if_none_match="*")
            self._latest = adopted.version
            done = replace(proposal, adopted=adopted.iri)
            await self.pod.update_document(url, lambda _: self._proposal_graph(done))
            return done
