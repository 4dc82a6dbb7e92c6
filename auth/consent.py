"""The owner's consent decisions, kept as access-grant documents in their own pod.

Accepting an app's needs writes one ``cp:AccessGrant`` (ODRL + DPV, see docs/vocabulary.md)
under ``/grants/`` — owner-only, sealed like every resource, checked against the AccessGrant
shape. Each accepted need becomes a permission on the containers the owner's type index
registers for its class, for the stated purpose, until the end of the (possibly shortened)
duration. Revoking sets the consent status to ``dpv:ConsentWithdrawn``; the access decision
reads grants on every request, so both take effect at once.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox

from auth.oidc.clients import ClientInfo
from auth.oidc.needs import DATA_KINDS, PROFILE_DOCUMENT, AccessNeed
from pod.access.decide import AccessDecider
from pod.access.grants import GRANTS, Grant, app_iri, client_id_of
from pod.errors import NotFound
from pod.resources.conditions import Conditions
from pod.resources.patch import parse_n3_patch
from pod.resources.paths import Target
from pod.resources.service import ResourceService
from pod.store.directory import PodDirectory
from pod.store.system import SystemRecords, dump
from vocab.namespaces import AS, DCTERMS, DPV, ODRL, RDF, SOLID, XSD, node_of
from vocab.prefixes import PREFIXES as NS
from vocab.terms import CP

#: the ODRL action each mode is granted as
ACTIONS = {"read": node_of(ODRL.read), "append": node_of(ODRL.append),
           "write": node_of(ODRL.modify)}
WEBHOOK_RECORD = "grant-webhook:"
RDF_TYPE = node_of(RDF.type)
XSD_DATETIME = node_of(XSD.dateTime)
APPLICATION = node_of(AS.Application)
TURTLE_PREFIXES = {p: NS[p] for p in ("cp", "odrl", "dpv", "dcterms", "solid", "as", "xsd")}
PREFIXES = "".join(f"@prefix {k}: <{v}> .\n" for k, v in TURTLE_PREFIXES.items())


@dataclass(frozen=True)
class Accepted:
    """A need the owner accepted, for how many days, on the containers they were shown."""

    need: AccessNeed
    days: int
    where: tuple[str, ...]


def _stamp(when: float) -> str:
    """An xsd:dateTime in UTC, to the millisecond (so decisions made within a second still
    sort in order)."""
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _permission(grant: ox.NamedNode, target: str, need: AccessNeed, until: float
                ) -> list[ox.Triple]:
    """One accepted need on one container, as ODRL triples (IRIs checked by pyoxigraph)."""
    perm, purpose, end = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    out = [ox.Triple(grant, node_of(ODRL.permission), perm),
           ox.Triple(perm, node_of(ODRL.target), ox.NamedNode(target)),
           ox.Triple(perm, node_of(DCTERMS.description), ox.Literal(need.description)),
           ox.Triple(perm, node_of(ODRL.constraint), purpose),
           ox.Triple(purpose, node_of(ODRL.leftOperand), node_of(ODRL.purpose)),
           ox.Triple(purpose, node_of(ODRL.operator), node_of(ODRL.eq)),
           ox.Triple(purpose, node_of(ODRL.rightOperand), ox.NamedNode(need.purpose)),
           ox.Triple(perm, node_of(ODRL.constraint), end),
           ox.Triple(end, node_of(ODRL.leftOperand), node_of(ODRL.dateTime)),
           ox.Triple(end, node_of(ODRL.operator), node_of(ODRL.lt)),
           ox.Triple(end, node_of(ODRL.rightOperand), ox.Literal(_stamp(until),
                                                                 datatype=XSD_DATETIME))]
    out += [ox.Triple(perm, node_of(ODRL.action), ACTIONS[m]) for m in need.modes]
    if need.cls:
        out.append(ox.Triple(perm, node_of(SOLID.forClass), ox.NamedNode(need.cls)))
    return out


async def remember_webhook(system: SystemRecords, grant: str, url: str) -> None:
    """Keep the webhook the app declared when the owner consented (an app cannot re-point
    it later)."""
    async with system.write() as tx:
        await tx.put(WEBHOOK_RECORD + grant, dump({"url": url}))


async def webhook_of(system: SystemRecords, grant: str) -> str | None:
    """The webhook the app declared for ``grant`` when consent was given."""
    found = await system.get_json(WEBHOOK_RECORD + grant)
    return found.get("url") if found else None


@dataclass(frozen=True)
class Notice:
    """Where the app holding a grant is told that the grant ended."""

    url: str
    client_id: str
    grant: str


async def revocation_notice(system: SystemRecords, grant: Grant) -> Notice | None:
    """The webhook the app of ``grant`` declared when the owner consented, for that app;
    ``None`` when it declared none."""
    url = await webhook_of(system, grant.iri)
    apps = sorted(grant.apps)
    return Notice(url, client_id_of(apps[0]), grant.iri) if url and apps else None


class Consent:
    """The owners' consent decisions, as grant documents in their pods: where a need's data
    lives, recording a decision, listing and revoking grants."""

    def __init__(self, base_url: str, pods: PodDirectory, resources: ResourceService,
                 access: AccessDecider):
        self.base_url, self.pods, self.resources, self.access = base_url, pods, resources, access

    async def targets(self, pod: str, need: AccessNeed) -> list[str]:
        """Where a need's data lives in ``pod``: the type index's containers for its class."""
        pod_url = f"{self.base_url}{pod}/"
        if need.cls is None:
            return [pod_url]
        if need.cls == PROFILE_DOCUMENT:
            return [pod_url + DATA_KINDS[PROFILE_DOCUMENT][1]]
        keys = await self.pods.find(pod)
        return await self.resources.registered(keys, pod, need.cls) if keys else []

    async def record(self, pod: str, webid: str, client: ClientInfo,
                     accepted: list[Accepted]) -> str | None:
        """Store the owner's decision as a grant; its IRI, or ``None`` when nothing was
        granted. ``accepted`` carries where each need's data lives (as the owner was shown
        it). The decision replaces the owner's earlier grants to the same app (they are
        withdrawn and point to it), so one revocation always ends what the app holds."""
        now = time.time()
        app = app_iri(client.client_id)
        earlier = [g for g in await self.grants(pod) if app in g.apps and not g.withdrawn]
        made = None
        if any(a.where for a in accepted):
            made = await self._write(pod, webid, client, accepted, now)
        for grant in earlier:
            await self._withdraw(pod, grant, replaced_by=made)
        return made

    async def _write(self, pod: str, webid: str, client: ClientInfo,
                     accepted: list[Accepted], now: float) -> str:
        keys = await self.pods.find(pod)
        if keys is None:
            raise NotFound(f"there is no pod named {pod!r}")
        slug = re.sub(r"[^a-z0-9]+", "-", (client.client_name or "app").lower()).strip("-")[:40]
        target = Target(pod, f"{GRANTS}{slug or 'app'}-{secrets.token_hex(6)}")
        grant = ox.NamedNode(self.resources.url(target) + "#it")
        body = ox.serialize(_grant(grant, webid, client, accepted, now),
                            format=ox.RdfFormat.TURTLE, prefixes=TURTLE_PREFIXES)
        assert body is not None  # given no output to write to, pyoxigraph returns the bytes
        await self.resources.put(keys, target, body, "text/turtle",
                                 Conditions.from_headers(None, "*"))
        return grant.value

    async def grants(self, pod: str) -> list[Grant]:
        """Every grant in ``pod``, newest first."""
        keys = await self.pods.find(pod)
        if keys is None:
            return []
        async with self.resources.store.read(keys) as reader:
            found = await self.access.grants(reader, keys, pod)
        return sorted(found, key=lambda g: g.issued, reverse=True)

    async def revoke(self, pod: str, grant_iri: str) -> Grant:
        """Withdraw consent: the grant stays, for the record, with status ConsentWithdrawn.
        Returns the grant as it was before."""
        found = next((g for g in await self.grants(pod) if g.iri == grant_iri), None)
        if found is None:
            raise NotFound(f"there is no grant {grant_iri} in this pod")
        if not found.withdrawn:
            await self._withdraw(pod, found)
        return found

    async def _withdraw(self, pod: str, grant: Grant, replaced_by: str | None = None) -> None:
        keys = await self.pods.find(pod)
        if keys is None:
            raise NotFound(f"there is no pod named {pod!r}")
        path = grant.document[len(f"{self.base_url}{pod}"):]
        replaced = f" ;\n        dcterms:isReplacedBy <{replaced_by}>" if replaced_by else ""
        patch = PREFIXES + f"""_:revoke a solid:InsertDeletePatch ;
    solid:deletes {{ <{grant.iri}> dpv:hasConsentStatus dpv:ConsentGiven . }} ;
    solid:inserts {{ <{grant.iri}> dpv:hasConsentStatus dpv:ConsentWithdrawn ;
        dcterms:modified "{_stamp(time.time())}"^^xsd:dateTime{replaced} . }} .
"""
        await self.resources.patch(keys, Target(pod, path),
                                   parse_n3_patch(patch.encode(), grant.document),
                                   Conditions.from_headers(None, None))


def _grant(grant: ox.NamedNode, webid: str, client: ClientInfo, accepted: list[Accepted],
           now: float) -> list[ox.Triple]:
    """The triples of a grant document: who granted what to which app, for what, until when."""
    app = ox.NamedNode(app_iri(client.client_id))
    triples = [
        ox.Triple(grant, RDF_TYPE, node_of(CP.AccessGrant)),
        ox.Triple(grant, RDF_TYPE, node_of(ODRL.Agreement)),
        ox.Triple(grant, node_of(ODRL.uid), grant),
        ox.Triple(grant, node_of(ODRL.assigner), ox.NamedNode(webid)),
        ox.Triple(grant, node_of(ODRL.assignee), app),
        ox.Triple(app, RDF_TYPE, APPLICATION),  # the app's role, apart from any WebID's
        ox.Triple(grant, node_of(DCTERMS.title),
                  ox.Literal(client.client_name or client.client_id)),
        ox.Triple(grant, node_of(DPV.hasLegalBasis), node_of(DPV.Consent)),
        ox.Triple(grant, node_of(DPV.hasConsentStatus), node_of(DPV.ConsentGiven)),
        ox.Triple(grant, node_of(DCTERMS.issued),
                  ox.Literal(_stamp(now), datatype=XSD_DATETIME)),
    ]
    if client.agent_webid:
        triples.append(ox.Triple(grant, node_of(ODRL.assignee),
                                 ox.NamedNode(client.agent_webid)))
    for a in accepted:
        for where in a.where:
            triples += _permission(grant, where, a.need, now + a.days * 86400)
    return triples
