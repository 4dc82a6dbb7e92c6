"""Web Access Control authorizations (WAC, W3C Solid CG draft 2024): parse and match.

An ACL document is a set of ``acl:Authorization`` resources. This module turns its triples
into :class:`Authorization` values and answers which modes one agent gets from them. Finding
the effective ACL document (own or inherited via ``acl:default``) is ``pod.access.decide``'s job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TypeVar, cast

import pyoxigraph as ox

from pod.access.agent import Agent
from pod.access.modes import Mode
from vocab.namespaces import ACL, FOAF, RDF, iri_of

RDF_TYPE = iri_of(RDF.type)
FOAF_AGENT = iri_of(FOAF.Agent)
AUTHENTICATED = iri_of(ACL.AuthenticatedAgent)
T = TypeVar("T")
AUTHORIZATION = iri_of(ACL.Authorization)
MODE_IRIS = {iri_of(ACL.Read): Mode.READ, iri_of(ACL.Write): Mode.WRITE,
             iri_of(ACL.Append): Mode.APPEND, iri_of(ACL.Control): Mode.CONTROL}
_FIELDS = {iri_of(ACL.mode): "modes", iri_of(ACL.agent): "agents",
           iri_of(ACL.agentClass): "classes", iri_of(ACL.agentGroup): "groups",
           iri_of(ACL.origin): "origins", iri_of(ACL.accessTo): "access_to",
           iri_of(ACL.default): "default"}


@dataclass(frozen=True, slots=True)
class Authorization:
    """One ``acl:Authorization``: who gets which modes on what."""

    modes: frozenset[Mode]
    agents: frozenset[str]
    classes: frozenset[str]
    groups: frozenset[str]
    origins: frozenset[str]
    access_to: frozenset[str]
    default: frozenset[str]

    def applies_to(self, agent: Agent, groups: Collection[str] = ()) -> bool:
        """Whether ``agent`` is among the agents this authorization names (WAC §4.3);
        ``groups`` are the ``acl:agentGroup`` IRIs the agent is known to be a member of."""
        if not self.origin_allowed(agent):
            return False
        if FOAF_AGENT in self.classes:
            return True
        if agent.webid is None:
            return False
        return (AUTHENTICATED in self.classes or agent.webid in self.agents
                or any(group in groups for group in self.groups))

    def origin_allowed(self, agent: Agent) -> bool:
        """``acl:origin`` (WAC §4.3): when given, the request's ``Origin`` must be one of them."""
        return not self.origins or agent.origin in self.origins


def parse_acl(triples: Iterable[ox.Triple]) -> list[Authorization]:
    """The authorizations in an ACL document's triples; anything else is ignored."""
    props: dict[ox.NamedNode | ox.BlankNode, dict[str, set[str]]] = defaultdict(
        lambda: defaultdict(set))
    typed = set()
    for s, p, o in triples:
        if p.value == RDF_TYPE and o.value == AUTHORIZATION:
            typed.add(s)
        elif p.value in _FIELDS and isinstance(o, ox.NamedNode):
            props[s][_FIELDS[p.value]].add(o.value)
    out = []
    same: dict[frozenset[str], frozenset[str]] = {}  # one set for the document's repeats
    for subject in typed:
        f = props.get(subject, {})
        modes = frozenset(MODE_IRIS[m] for m in f.get("modes", ()) if m in MODE_IRIS)
        if Mode.WRITE in modes:
            modes |= {Mode.APPEND}
        out.append(Authorization(_shared(modes), *(
            same.setdefault(found := _shared(frozenset(f.get(k, ()))), found) for k in (
                "agents", "classes", "groups", "origins", "access_to", "default"))))
    return out


_COMMON: dict[frozenset[object], frozenset[object]] = {}
_SHARED_CLASSES = frozenset({FOAF_AGENT, AUTHENTICATED})


def _shared(values: frozenset[T]) -> frozenset[T]:
    """One object for each small set that recurs in every ACL — none, a set of modes, the
    class of everyone — instead of one per authorization: parsed ACLs are cached by the
    thousand, and a set costs 216 bytes even empty."""
    if values and not (values <= _SHARED_CLASSES or all(isinstance(v, Mode) for v in values)):
        return values
    return cast(frozenset[T], _COMMON.setdefault(values, values))


def granted(auths: Iterable[Authorization], agent: Agent, url: str, inherited: bool,
            groups: Collection[str] = ()) -> set[Mode]:
    """Modes ``agent`` gets on ``url`` from one ACL document: through ``acl:accessTo`` on its
    own ACL, or through ``acl:default`` of the container whose ACL is ``inherited``;
    ``groups`` are the groups the agent is a member of."""
    modes: set[Mode] = set()
    for auth in auths:
        targets = auth.default if inherited else auth.access_to
        if url in targets and auth.applies_to(agent, groups):
            modes |= auth.modes
    return modes


def groups_to_ask(auths: Iterable[Authorization], agent: Agent, url: str, inherited: bool,
                  have: set[Mode]) -> list[str]:
    """The ``acl:agentGroup`` IRIs whose membership could add modes to ``have``."""
    if agent.webid is None:
        return []
    out: list[str] = []
    for auth in auths:
        targets = auth.default if inherited else auth.access_to
        if auth.groups and url in targets and not auth.modes <= have \
                and auth.origin_allowed(agent):
            out.extend(g for g in sorted(auth.groups) if g not in out)
    return out
