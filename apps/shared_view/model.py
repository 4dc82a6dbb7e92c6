"""The community as RDF in its own pod: settings, members and the privacy-budget ledger.

Three documents under ``shared-view/`` in the community's pod (sealed at rest by the server
like everything else; the app keeps no database of its own):

- ``community.ttl``: ``<#community> a cp:Community`` with ``schema:name``,
  ``schema:description``, ``dpv:hasPurpose``, ``cp:tracks`` (each project with its
  ``schema:name``), ``cp:disclosureThreshold`` (k), ``cp:grantDuration``, ``cp:epsilon`` (per
  release; 0 = no noise) and ``cp:privacyBudget``;
- ``members.ttl``: ``<#community> vcard:hasMember <webid>``, each member's ``pim:storage`` and
  ``solid:oidcIssuer``, and ``foaf:name`` only for a member who agreed to be named;
- ``ledger.ttl``: one ``prov:Activity`` per release of noisy figures, with
  ``prov:endedAtTime`` and the ``cp:epsilon`` it spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from apps.sdk import Graph
from vocab.namespaces import DPV, FOAF, PIM, PROV, RDF, SCHEMA, SOLID, VCARD, XSD, iri_of
from vocab.terms import CP

DEFAULT_K = 5
DEFAULT_DURATION = "P90D"
#: reading contributions to see together what members do, to run the community
DEFAULT_PURPOSE = iri_of(DPV.OrganisationGovernance)
#: being named on the member list: keeping a register of the community's members
NAMING_PURPOSE = iri_of(DPV.MemberPartnerManagement)

_TYPE = ox.NamedNode(iri_of(RDF.type))
_NAME = ox.NamedNode(iri_of(SCHEMA.name))
_DESCRIPTION = ox.NamedNode(iri_of(SCHEMA.description))
_PURPOSE = ox.NamedNode(iri_of(DPV.hasPurpose))
_TRACKS = ox.NamedNode(iri_of(CP.tracks))
_K = ox.NamedNode(iri_of(CP.disclosureThreshold))
_DURATION = ox.NamedNode(iri_of(CP.grantDuration))
_EPSILON = ox.NamedNode(iri_of(CP.epsilon))
_BUDGET = ox.NamedNode(iri_of(CP.privacyBudget))
_COMMUNITY = ox.NamedNode(iri_of(CP.Community))
_HAS_MEMBER = ox.NamedNode(iri_of(VCARD.hasMember))
_STORAGE = ox.NamedNode(iri_of(PIM.storage))
_ISSUER = ox.NamedNode(iri_of(SOLID.oidcIssuer))
_FOAF_NAME = ox.NamedNode(iri_of(FOAF.name))
_ACTIVITY = ox.NamedNode(iri_of(PROV.Activity))
_ENDED = ox.NamedNode(iri_of(PROV.endedAtTime))
_INTEGER = ox.NamedNode(iri_of(XSD.integer))
_DECIMAL = ox.NamedNode(iri_of(XSD.decimal))
_DATETIME = ox.NamedNode(iri_of(XSD.dateTime))


@dataclass(frozen=True)
class Project:
    """A project the community tracks: its IRI (what contributions name as ``vf:inScopeOf``)
    and its name."""

    iri: str
    name: str


@dataclass(frozen=True)
class Settings:
    """What a community decided about itself."""

    name: str
    description: str = ""
    purpose: str = DEFAULT_PURPOSE
    projects: tuple[Project, ...] = ()
    k: int = DEFAULT_K
    duration: str = DEFAULT_DURATION
    epsilon: Decimal = Decimal(0)  # per release of noisy figures; 0: no noise
    budget: Decimal = Decimal(0)  # in all

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("a community needs a name")
        if self.k < 1:
            raise ValueError("the disclosure threshold k is at least 1")
        if self.epsilon < 0 or self.budget < 0:
            raise ValueError("epsilon and the privacy budget are never negative")

    def project_name(self, iri: str) -> str:
        return next((p.name for p in self.projects if p.iri == iri), iri)


@dataclass(frozen=True)
class Member:
    """A member: WebID, pod, the issuer they signed in with, and their name only if they
    agreed to be named."""

    webid: str
    pod: str
    issuer: str
    name: str | None = None


@dataclass(frozen=True)
class Release:
    """One release of noisy figures, and the privacy loss it spent."""

    at: datetime
    epsilon: Decimal


@dataclass
class Ledger:
    """Every release of noisy figures so far."""

    releases: list[Release] = field(default_factory=list)

    @property
    def spent(self) -> Decimal:
        return sum((r.epsilon for r in self.releases), Decimal(0))


def _text(graph: Graph, subject: ox.NamedNode, predicate: ox.NamedNode) -> str | None:
    found = graph.value(subject, predicate)
    return found.value if isinstance(found, ox.Literal) else None


def _decimal(text: str | None, default: Decimal) -> Decimal:
    try:
        return Decimal(text) if text is not None else default
    except InvalidOperation:
        return default


def settings_graph(document: str, settings: Settings) -> Graph:
    """``community.ttl`` for ``settings``."""
    g, it = Graph(), ox.NamedNode(document + "#community")
    g.add(it, _TYPE, _COMMUNITY)
    g.add(it, _NAME, ox.Literal(settings.name))
    if settings.description:
        g.add(it, _DESCRIPTION, ox.Literal(settings.description))
    g.add(it, _PURPOSE, ox.NamedNode(settings.purpose))
    for project in settings.projects:
        node = ox.NamedNode(project.iri)
        g.add(it, _TRACKS, node)
        g.add(node, _NAME, ox.Literal(project.name))
    g.add(it, _K, ox.Literal(str(settings.k), datatype=_INTEGER))
    g.add(it, _DURATION, ox.Literal(settings.duration))
    g.add(it, _EPSILON, ox.Literal(str(settings.epsilon), datatype=_DECIMAL))
    g.add(it, _BUDGET, ox.Literal(str(settings.budget), datatype=_DECIMAL))
    return g


def settings_from(document: str, graph: Graph) -> Settings:
    """The settings ``community.ttl`` holds; ``ValueError`` when it holds none."""
    it = ox.NamedNode(document + "#community")
    name = _text(graph, it, _NAME)
    if name is None:
        raise ValueError(f"{document} describes no community (no schema:name)")
    purpose = graph.value(it, _PURPOSE)
    projects = tuple(sorted(
        (Project(p.value, _text(graph, p, _NAME) or p.value)
         for p in graph.objects(it, _TRACKS) if isinstance(p, ox.NamedNode)),
        key=lambda p: p.name))
    k = _text(graph, it, _K)
    return Settings(
        name=name, description=_text(graph, it, _DESCRIPTION) or "",
        purpose=purpose.value if isinstance(purpose, ox.NamedNode) else DEFAULT_PURPOSE,
        projects=projects, k=int(k) if k is not None and k.isdigit() else DEFAULT_K,
        duration=_text(graph, it, _DURATION) or DEFAULT_DURATION,
        epsilon=_decimal(_text(graph, it, _EPSILON), Decimal(0)),
        budget=_decimal(_text(graph, it, _BUDGET), Decimal(0)))


def members_graph(document: str, members: dict[str, Member]) -> Graph:
    """``members.ttl`` for ``members`` (by WebID)."""
    g, it = Graph(), ox.NamedNode(document + "#community")
    for member in members.values():
        who = ox.NamedNode(member.webid)
        g.add(it, _HAS_MEMBER, who)
        g.add(who, _STORAGE, ox.NamedNode(member.pod))
        g.add(who, _ISSUER, ox.NamedNode(member.issuer))
        if member.name is not None:
            g.add(who, _FOAF_NAME, ox.Literal(member.name))
    return g


def members_from(document: str, graph: Graph) -> dict[str, Member]:
    """The members ``members.ttl`` lists, by WebID (one without a pod or issuer is skipped)."""
    it = ox.NamedNode(document + "#community")
    found: dict[str, Member] = {}
    for who in graph.objects(it, _HAS_MEMBER):
        if not isinstance(who, ox.NamedNode):
            continue
        pod, issuer = graph.value(who, _STORAGE), graph.value(who, _ISSUER)
        if isinstance(pod, ox.NamedNode) and isinstance(issuer, ox.NamedNode):
            found[who.value] = Member(who.value, pod.value, issuer.value,
                                      _text(graph, who, _FOAF_NAME))
    return found


def ledger_graph(document: str, ledger: Ledger) -> Graph:
    """``ledger.ttl`` for ``ledger``."""
    g = Graph()
    for n, release in enumerate(ledger.releases, 1):
        node = ox.NamedNode(f"{document}#release-{n}")
        g.add(node, _TYPE, _ACTIVITY)
        g.add(node, _ENDED, ox.Literal(release.at.isoformat(), datatype=_DATETIME))
        g.add(node, _EPSILON, ox.Literal(str(release.epsilon), datatype=_DECIMAL))
    return g


def ledger_from(graph: Graph) -> Ledger:
    """The releases ``ledger.ttl`` records, oldest first."""
    releases = []
    for node in graph.subjects(_TYPE, _ACTIVITY):
        if not isinstance(node, ox.NamedNode):
            continue
        at, spent = _text(graph, node, _ENDED), _text(graph, node, _EPSILON)
        if at is None or spent is None:
            continue
        try:
            releases.append(Release(datetime.fromisoformat(at), Decimal(spent)))
        except (ValueError, InvalidOperation):
            continue
    return Ledger(sorted(releases, key=lambda r: r.at))
