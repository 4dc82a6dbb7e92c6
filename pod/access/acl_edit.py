"""Editing an ACL document as triples (WAC §4 Authorization, §5 ACL Resolution).

Sharing a resource gives one party — a person (``acl:agent``), a group (``acl:agentGroup``),
everyone (``acl:agentClass foaf:Agent``) or everyone signed in (``acl:agentClass
acl:AuthenticatedAgent``) — one authorization of its own, ``<ACL#share-…>``, named after the
party, so sharing again changes it instead of adding another. Taking access away removes the
party from every authorization of the resource's own ACL, and an authorization left naming
nobody with it. Nothing here edits Turtle as text.

A resource that has no ACL of its own inherits its container's (``acl:default``); WAC then
reads only the new document once one exists, so an edit first copies every inherited
authorization into it — same parties, same modes, now ``acl:accessTo`` the resource (and
``acl:default`` for a container) — and what everyone could do before, they still can. The
pod owner is never removed, and every edited ACL lets the owner Read, Write and Control.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from pod.access.modes import Mode
from pod.access.wac import Authorization, parse_acl
from vocab.namespaces import ACL, FOAF, RDF

Subject = ox.NamedNode | ox.BlankNode

TYPE = ox.NamedNode(str(RDF.type))
AUTHORIZATION = ox.NamedNode(str(ACL.Authorization))
ACCESS_TO = ox.NamedNode(str(ACL.accessTo))
DEFAULT = ox.NamedNode(str(ACL.default))
MODE = ox.NamedNode(str(ACL.mode))
EVERYONE = str(FOAF.Agent)
SIGNED_IN = str(ACL.AuthenticatedAgent)
PREDICATES = {"person": str(ACL.agent), "group": str(ACL.agentGroup),
              "public": str(ACL.agentClass), "authenticated": str(ACL.agentClass)}
MODE_IRIS = {Mode.READ: str(ACL.Read), Mode.APPEND: str(ACL.Append),
             Mode.WRITE: str(ACL.Write), Mode.CONTROL: str(ACL.Control)}
OWNER_MODES = frozenset({Mode.READ, Mode.WRITE, Mode.CONTROL})


class EditRefused(ValueError):
    """An edit that would lock the owner out, or is not one; the message says why."""


@dataclass(frozen=True, slots=True)
class Party:
    """Someone a resource can be shared with."""

    kind: str  # "person" | "group" | "public" | "authenticated"
    iri: str

    @classmethod
    def everyone(cls) -> Party:
        return cls("public", EVERYONE)

    @classmethod
    def signed_in(cls) -> Party:
        return cls("authenticated", SIGNED_IN)

    @property
    def predicate(self) -> ox.NamedNode:
        return ox.NamedNode(PREDICATES[self.kind])

    @property
    def node(self) -> str:
        """The fragment of the authorization that shares with this party."""
        digest = hashlib.sha256(f"{self.kind} {self.iri}".encode()).hexdigest()[:16]
        return f"share-{digest}"


@dataclass(frozen=True, slots=True)
class Holder:
    """A party and the modes the authorizations applying to a resource give it."""

    party: Party
    modes: frozenset[Mode]
    origins: frozenset[str] = frozenset()  # when set: only through apps of these origins


def parties(auth: Authorization) -> list[Party]:
    """Everyone one authorization names."""
    found = [Party("person", a) for a in sorted(auth.agents)]
    found += [Party("group", g) for g in sorted(auth.groups)]
    for cls in sorted(auth.classes):
        if cls == EVERYONE:
            found.append(Party.everyone())
        elif cls == SIGNED_IN:
            found.append(Party.signed_in())
    return found


def holders(auths: Iterable[Authorization], url: str, inherited: bool) -> list[Holder]:
    """Who may do what on ``url`` by the authorizations of its effective ACL (its own, or —
    ``inherited`` — the ``acl:default`` ones of its container's): one entry per party and
    origin restriction, the modes of every authorization naming it together."""
    found: dict[tuple[Party, frozenset[str]], set[Mode]] = {}
    for auth in auths:
        if url not in (auth.default if inherited else auth.access_to):
            continue
        for party in parties(auth):
            found.setdefault((party, auth.origins), set()).update(auth.modes)
    order = {"person": 2, "group": 3, "authenticated": 1, "public": 0}
    return [Holder(p, frozenset(m), o) for (p, o), m in
            sorted(found.items(), key=lambda i: (order[i[0][0].kind], i[0][0].iri))]


def inherit(auths: Iterable[Authorization], container_url: str, acl_url: str, url: str,
            is_container: bool) -> list[ox.Triple]:
    """An own ACL for ``url`` saying what its container's ``acl:default`` authorizations
    said of it (WAC §5: an own ACL replaces the inherited one entirely)."""
    out: list[ox.Triple] = []
    for n, auth in enumerate(a for a in auths if container_url in a.default):
        node = ox.NamedNode(f"{acl_url}#inherited-{n}")
        out += _authorization(node, url, is_container, auth.modes)
        out += [ox.Triple(node, ox.NamedNode(str(ACL.agent)), ox.NamedNode(a))
                for a in sorted(auth.agents)]
        out += [ox.Triple(node, ox.NamedNode(str(ACL.agentGroup)), ox.NamedNode(g))
                for g in sorted(auth.groups)]
        out += [ox.Triple(node, ox.NamedNode(str(ACL.agentClass)), ox.NamedNode(c))
                for c in sorted(auth.classes)]
        out += [ox.Triple(node, ox.NamedNode(str(ACL.origin)), ox.NamedNode(o))
                for o in sorted(auth.origins)]
    return out


def share(triples: list[ox.Triple], acl_url: str, url: str, is_container: bool, party: Party,
          modes: frozenset[Mode], owner: str) -> list[ox.Triple]:
    """``triples`` (the resource's own ACL) with ``party``'s own authorization giving
    exactly ``modes`` (for a container, on its members too)."""
    if not modes or Mode.CONTROL in modes:
        raise EditRefused("share read, append or write access")
    node = ox.NamedNode(f"{acl_url}#{party.node}")
    kept = [t for t in triples if t.subject != node]
    kept += _authorization(node, url, is_container, modes)
    kept.append(ox.Triple(node, party.predicate, _node(party.iri)))
    return keep_owner(kept, acl_url, url, is_container, owner)


def unshare(triples: list[ox.Triple], acl_url: str, url: str, is_container: bool,
            party: Party, owner: str) -> list[ox.Triple]:
    """``triples`` without ``party`` in any authorization (and without an authorization
    that named only it)."""
    if party.kind == "person" and party.iri == owner:
        raise EditRefused("the pod's owner always keeps access to everything in it")
    target = _node(party.iri)
    naming = {t.subject for t in triples if t.predicate == party.predicate and t.object == target}
    kept = [t for t in triples
            if not (t.subject in naming and t.predicate == party.predicate and t.object == target)]
    whom = {ox.NamedNode(p) for p in set(PREDICATES.values())}
    emptied = {s for s in naming if not any(t.subject == s and t.predicate in whom for t in kept)}
    kept = [t for t in kept if t.subject not in emptied]
    return keep_owner(kept, acl_url, url, is_container, owner)


def keep_owner(triples: list[ox.Triple], acl_url: str, url: str, is_container: bool,
               owner: str) -> list[ox.Triple]:
    """``triples``, plus an authorization letting ``owner`` Read, Write and Control ``url``
    (and, for a container, its members) unless the ACL gives them that already."""
    auths = parse_acl(triples)  # as the access decision reads it
    own = {m for a in auths if owner in a.agents and url in a.access_to for m in a.modes}
    inherited = {m for a in auths if owner in a.agents and url in a.default for m in a.modes}
    if own >= OWNER_MODES and (not is_container or inherited >= OWNER_MODES):
        return triples
    node = ox.NamedNode(f"{acl_url}#owner")
    n = 0
    while any(t.subject == node for t in triples):
        n += 1
        node = ox.NamedNode(f"{acl_url}#owner-{n}")
    return [*triples, *_authorization(node, url, is_container, OWNER_MODES),
            ox.Triple(node, ox.NamedNode(str(ACL.agent)), ox.NamedNode(owner))]


def _node(iri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError:
        raise EditRefused(f"{iri[:200]!r} is not an IRI") from None


def _authorization(node: Subject, url: str, is_container: bool, modes: Iterable[Mode]
                   ) -> list[ox.Triple]:
    out = [ox.Triple(node, TYPE, AUTHORIZATION),
           ox.Triple(node, ACCESS_TO, ox.NamedNode(url))]
    if is_container:
        out.append(ox.Triple(node, DEFAULT, ox.NamedNode(url)))
    wanted = set(modes)
    if Mode.WRITE in wanted:
        wanted.discard(Mode.APPEND)  # Write includes Append (WAC §4.2)
    out += [ox.Triple(node, MODE, ox.NamedNode(MODE_IRIS[m])) for m in Mode if m in wanted]
    return out
