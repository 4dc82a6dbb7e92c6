"""Access grants: a pod owner's consent for an app, as the access decision reads it.

A grant is an RDF document in the owner's pod, under ``/grants/`` (owner-only, sealed like
every resource): a ``cp:AccessGrant`` — an ODRL agreement with the app as ``odrl:assignee``
(its client id, typed ``as:Application``, and its own WebID when it also acts as itself; the
two roles never stand in for each other), one ``odrl:permission`` per
accepted need (target container, actions, a DPV purpose constraint and an end date), and a
``dpv:hasConsentStatus``. ODRL actions map to WAC modes: ``odrl:read`` → Read,
``odrl:append`` → Append, ``odrl:modify`` → Write and Append. Control is never granted.

Parsed grants are cached per pod, each kept while every record it was read from is unchanged
(checked at each use, in the request's snapshot), so a revocation made through any process
sharing the store applies to the very next request; expiry needs no write at all.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from pod.access.modes import Mode
from pod.store.sealed import SealedReader
from pod.store.sourced import SourcedCache
from vocab.namespaces import AS, DCTERMS, DPV, ODRL, RDF, SOLID, iri_of
from vocab.terms import CP

GRANTS = "/grants/"
RDF_TYPE = iri_of(RDF.type)
APP = iri_of(AS.Application)
CLIENT_URN = "urn:commonpod:client:"
ACTIONS: dict[str, frozenset[Mode]] = {
    iri_of(ODRL.read): frozenset({Mode.READ}),
    iri_of(ODRL.append): frozenset({Mode.APPEND}),
    iri_of(ODRL.modify): frozenset({Mode.WRITE, Mode.APPEND}),
}
_ACCESS_GRANT, _PERMISSION = iri_of(CP.AccessGrant), iri_of(ODRL.permission)
_ACTION, _CONSTRAINT, _TARGET = iri_of(ODRL.action), iri_of(ODRL.constraint), iri_of(ODRL.target)
_LEFT, _RIGHT = iri_of(ODRL.leftOperand), iri_of(ODRL.rightOperand)
_PURPOSE, _DATE_TIME = iri_of(ODRL.purpose), iri_of(ODRL.dateTime)
_ASSIGNEE, _FOR_CLASS = iri_of(ODRL.assignee), iri_of(SOLID.forClass)
_STATUS, _GIVEN = iri_of(DPV.hasConsentStatus), iri_of(DPV.ConsentGiven)
_TITLE, _DESCRIPTION = iri_of(DCTERMS.title), iri_of(DCTERMS.description)
_ISSUED = iri_of(DCTERMS.issued)
#: reads the documents under /grants/: (document URL, triples) of each
ReadGrants = Callable[[SealedReader], Awaitable[list[tuple[str, list[ox.Triple]]]]]


def app_iri(client_id: str) -> str:
    """An app as an ODRL party: its Client ID Document URL, or a URN for a registered client
    (whose id is an opaque string)."""
    if client_id.startswith(("https://", "http://")):
        return client_id
    return CLIENT_URN + client_id


def client_id_of(app: str) -> str:
    """The client id an app IRI (see :func:`app_iri`) stands for."""
    return app.removeprefix(CLIENT_URN)


@dataclass(frozen=True)
class Permission:
    """What one accepted need allows: modes on a target (a container covers what it holds)."""

    target: str
    modes: frozenset[Mode]
    purpose: str | None
    until: float
    description: str = ""
    cls: str | None = None  # the kind of data (solid:forClass), when the need named one

    def covers(self, url: str, now: float) -> bool:
        if now >= self.until:
            return False
        return url == self.target or (self.target.endswith("/") and url.startswith(self.target))


@dataclass(frozen=True)
class Grant:
    """One consent decision of the owner for one app."""

    iri: str
    document: str
    apps: frozenset[str]  # assignees typed as:Application: apps acting for the owner
    agents: frozenset[str]  # other assignees: agents acting as themselves
    permissions: tuple[Permission, ...]
    withdrawn: bool
    issued: float
    title: str = ""

    def status(self, now: float) -> str:
        """``withdrawn``, ``expired`` or ``active``."""
        return "withdrawn" if self.withdrawn else "active" if self.active(now) else "expired"

    def as_json(self, now: float) -> dict[str, object]:
        return {"grant": self.iri, "document": self.document, "title": self.title,
                "apps": sorted(self.apps), "agents": sorted(self.agents),
                "status": self.status(now),
                "issued": _iso(self.issued),
                "permissions": [_permission_json(p) for p in self.permissions]}

    def as_held_json(self, now: float) -> dict[str, object]:
        """What the grant lets its assignee do now, for the assignee: its permissions still
        in force, and nothing about other assignees."""
        return {"grant": self.iri, "title": self.title, "issued": _iso(self.issued),
                "permissions": [_permission_json(p) for p in self.permissions if p.until > now]}

    def active(self, now: float) -> bool:
        return not self.withdrawn and any(p.until > now for p in self.permissions)

    def modes(self, url: str, now: float) -> frozenset[Mode]:
        if self.withdrawn:
            return frozenset()
        found: frozenset[Mode] = frozenset()
        for p in self.permissions:
            if p.covers(url, now):
                found |= p.modes
        return found


def _permission_json(p: Permission) -> dict[str, object]:
    return {"target": p.target, "class": p.cls, "modes": sorted(m.value for m in p.modes),
            "purpose": p.purpose, "description": p.description, "until": _iso(p.until)}


def _objects(triples: list[ox.Triple], subject: ox.NamedNode | ox.BlankNode,
             predicate: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]:
    return [t.object for t in triples if t.subject == subject and t.predicate.value == predicate]


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str | None:
    """A term's IRI, blank node label or lexical form; ``None`` for an RDF 1.2 triple term,
    which no part of a grant may be (an action, a status or a party that is one counts for
    nothing, a status that is one withdraws the grant)."""
    return None if isinstance(term, ox.Triple) else term.value


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: object) -> float | None:
    if not isinstance(value, ox.Literal):
        return None
    try:
        when = datetime.fromisoformat(value.value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.timestamp() if when.tzinfo else None


def _permission(triples: list[ox.Triple], node: ox.NamedNode | ox.BlankNode
                ) -> Permission | None:
    modes: frozenset[Mode] = frozenset()
    for action in _objects(triples, node, _ACTION):
        modes |= ACTIONS.get(_value(action) or "", frozenset())
    purpose, until = None, None
    for c in _objects(triples, node, _CONSTRAINT):
        if not isinstance(c, (ox.NamedNode, ox.BlankNode)):
            continue
        left = [_value(o) for o in _objects(triples, c, _LEFT)]
        right = _objects(triples, c, _RIGHT)
        if _PURPOSE in left and right:
            purpose = _value(right[0])
        elif _DATE_TIME in left and right:
            until = _time(right[0])
    targets = [t.value for t in _objects(triples, node, _TARGET)
               if isinstance(t, ox.NamedNode)]
    if not modes or until is None or len(targets) != 1:
        return None  # without an end date or a single target a permission grants nothing
    text = _objects(triples, node, _DESCRIPTION)
    kind = _objects(triples, node, _FOR_CLASS)
    return Permission(targets[0], modes, purpose, until, (_value(text[0]) or "") if text else "",
                      _value(kind[0]) if kind else None)


def parse_grants(document: str, triples: list[ox.Triple]) -> list[Grant]:
    """The grants an RDF document states (malformed permissions grant nothing)."""
    found = []
    for t in triples:
        if t.predicate.value != RDF_TYPE or _value(t.object) != _ACCESS_GRANT or \
                not isinstance(t.subject, ox.NamedNode):
            continue
        node = t.subject
        perms = [_permission(triples, p) for p in _objects(triples, node, _PERMISSION)
                 if isinstance(p, (ox.NamedNode, ox.BlankNode))]
        status = {_value(o) for o in _objects(triples, node, _STATUS)}
        issued = [_time(o) for o in _objects(triples, node, _ISSUED)]
        parties = {v for o in _objects(triples, node, _ASSIGNEE) if (v := _value(o)) is not None}
        apps = {a for a in parties if any(
            _value(t.subject) == a and t.predicate.value == RDF_TYPE and _value(t.object) == APP
            for t in triples)}
        pod_url = document[:document.find(GRANTS) + 1]
        found.append(Grant(
            iri=node.value, document=document, apps=frozenset(apps),
            agents=frozenset(parties - apps),
            permissions=tuple(p for p in perms if p is not None and  # only in its own pod
                              p.target.startswith(pod_url)),
            withdrawn=bool(status - {_GIVEN}),
            issued=next((i for i in issued if i is not None), 0.0),
            title=next(((_value(o) or "") for o in _objects(triples, node, _TITLE)), "")))
    return found


@dataclass(frozen=True)
class Granted:
    """Modes an assignee holds on a URL through grants, and the grants that gave them."""

    modes: frozenset[Mode]
    grants: tuple[str, ...]


def granted(grants: Iterable[Grant], url: str, *, app: str | None = None,
            agent: str | None = None, now: float | None = None) -> Granted:
    """What an ``app`` (acting for the owner) or an ``agent`` (acting as itself) may do on
    ``url`` through ``grants``."""
    now = time.time() if now is None else now
    modes: frozenset[Mode] = frozenset()
    used = []
    for grant in grants:
        if (app is not None and app in grant.apps) or \
                (agent is not None and agent in grant.agents):
            found = grant.modes(url, now)
            if found:
                modes |= found
                used.append(grant.iri)
    return Granted(modes, tuple(used))


def held(grants: Iterable[Grant], *, app: str | None = None, agent: str | None = None,
         now: float | None = None) -> list[Grant]:
    """The active grants naming ``app`` (acting for the owner) or ``agent`` (acting as
    itself): those :func:`granted` reads for it."""
    now = time.time() if now is None else now
    return [g for g in grants if g.active(now) and (
        (app is not None and app in g.apps) or (agent is not None and agent in g.agents))]


class GrantIndex:
    """Per-pod cache of parsed grants, for the ``size`` pods used most recently, each kept
    while the records it was read from are unchanged (:class:`~pod.store.sourced.SourcedCache`):
    a grant written or revoked through any process sharing the store applies at the next
    request everywhere."""

    def __init__(self, size: int = 50_000) -> None:
        self._cache: SourcedCache[tuple[Grant, ...]] = SourcedCache(size)

    def touched(self, pod_id: bytes, path: str) -> None:
        """Call after every write of this process: forget a pod's grants when one of them may
        have changed (sparing the next use its check)."""
        if path.startswith(GRANTS) or path == GRANTS[:-1]:
            self._cache.drop(pod_id)

    async def grants(self, pod_id: bytes, reader: SealedReader, read: ReadGrants
                     ) -> tuple[Grant, ...]:
        """The pod's grants (active or not), as ``read(reader)`` finds them."""
        async def build(recording: SealedReader) -> tuple[Grant, ...]:
            return tuple(g for url, triples in await read(recording)
                         for g in parse_grants(url, triples))

        return await self._cache.get(pod_id, reader, build)
