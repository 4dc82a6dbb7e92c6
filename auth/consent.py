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
from typing import TYPE_CHECKING

import pyoxigraph as ox

from auth.oidc.clients import ClientInfo
from auth.oidc.needs import DATA_KINDS, PROFILE_DOCUMENT, AccessNeed
from pod.access.grants import GRANTS, Grant, app_iri
from pod.errors import NotFound
from pod.resources.conditions import Conditions
from pod.resources.patch import parse_n3_patch
from pod.resources.paths import Target
from pod.store.system import SystemRecords, dump
from vocab.prefixes import PREFIXES as NS

if TYPE_CHECKING:
    from pod.runtime import Runtime

ACTIONS = {"read": "read", "append": "append", "write": "modify"}
WEBHOOK_RECORD = "grant-webhook:"
CP, ODRL, DPV, DCT = (NS[p] for p in ("cp", "odrl", "dpv", "dcterms"))
RDF_TYPE = ox.NamedNode(NS["rdf"] + "type")
XSD_DATETIME = ox.NamedNode(NS["xsd"] + "dateTime")
APPLICATION = ox.NamedNode(NS["as"] + "Application")
TURTLE_PREFIXES = {p: NS[p] for p in ("cp", "odrl", "dpv", "dcterms", "solid", "as", "xsd")}
PREFIXES = "".join(f"@prefix {k}: <{v}> .\n" for k, v in TURTLE_PREFIXES.items())


def _n(ns: str, name: str) -> ox.NamedNode:
    return ox.NamedNode(ns + name)


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


async def targets(rt: Runtime, pod: str, need: AccessNeed) -> list[str]:
    """Where a need's data lives in ``pod``: the type index's containers for its class."""
    pod_url = f"{rt.settings.base_url}{pod}/"
    if need.cls is None:
        return [pod_url]
    if need.cls == PROFILE_DOCUMENT:
        return [pod_url + DATA_KINDS[PROFILE_DOCUMENT][1]]
    keys = await rt.pods.find(pod)
    return await rt.resources.registered(keys, pod, need.cls) if keys else []


def _permission(grant: ox.NamedNode, target: str, need: AccessNeed, until: float
                ) -> list[ox.Triple]:
    """One accepted need on one container, as ODRL triples (IRIs checked by pyoxigraph)."""
    perm, purpose, end = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    out = [ox.Triple(grant, _n(ODRL, "permission"), perm),
           ox.Triple(perm, _n(ODRL, "target"), ox.NamedNode(target)),
           ox.Triple(perm, _n(DCT, "description"), ox.Literal(need.description)),
           ox.Triple(perm, _n(ODRL, "constraint"), purpose),
           ox.Triple(purpose, _n(ODRL, "leftOperand"), _n(ODRL, "purpose")),
           ox.Triple(purpose, _n(ODRL, "operator"), _n(ODRL, "eq")),
           ox.Triple(purpose, _n(ODRL, "rightOperand"), ox.NamedNode(need.purpose)),
           ox.Triple(perm, _n(ODRL, "constraint"), end),
           ox.Triple(end, _n(ODRL, "leftOperand"), _n(ODRL, "dateTime")),
           ox.Triple(end, _n(ODRL, "operator"), _n(ODRL, "lt")),
           ox.Triple(end, _n(ODRL, "rightOperand"), ox.Literal(_stamp(until),
                                                               datatype=XSD_DATETIME))]
    out += [ox.Triple(perm, _n(ODRL, "action"), _n(ODRL, ACTIONS[m])) for m in need.modes]
    if need.cls:
        out.append(ox.Triple(perm, ox.NamedNode(NS["solid"] + "forClass"),
                             ox.NamedNode(need.cls)))
    return out


async def record(rt: Runtime, pod: str, webid: str, client: ClientInfo,
                 accepted: list[Accepted]) -> str | None:
    """Store the owner's decision as a grant; its IRI, or ``None`` when nothing was granted.
    ``accepted`` carries where each need's data lives (as the owner was shown it). The
    decision replaces the owner's earlier grants to the same app (they are withdrawn and point
    to it), so one revocation always ends what the app holds."""
    now = time.time()
    app = app_iri(client.client_id)
    earlier = [g for g in await grants(rt, pod) if app in g.apps and not g.withdrawn]
    made = None
    if any(a.where for a in accepted):
        made = await _write(rt, pod, webid, client, accepted, now)
    for grant in earlier:
        await _withdraw(rt, pod, grant, replaced_by=made)
    return made


async def _write(rt: Runtime, pod: str, webid: str, client: ClientInfo,
                 accepted: list[Accepted], now: float) -> str:
    keys = await rt.pods.find(pod)
    if keys is None:
        raise NotFound(f"there is no pod named {pod!r}")
    slug = re.sub(r"[^a-z0-9]+", "-", (client.client_name or "app").lower()).strip("-")[:40]
    target = Target(pod, f"{GRANTS}{slug or 'app'}-{secrets.token_hex(6)}")
    grant = ox.NamedNode(rt.resources.url(target) + "#it")
    app = ox.NamedNode(app_iri(client.client_id))
    triples = [
        ox.Triple(grant, RDF_TYPE, _n(CP, "AccessGrant")),
        ox.Triple(grant, RDF_TYPE, _n(ODRL, "Agreement")),
        ox.Triple(grant, _n(ODRL, "uid"), grant),
        ox.Triple(grant, _n(ODRL, "assigner"), ox.NamedNode(webid)),
        ox.Triple(grant, _n(ODRL, "assignee"), app),
        ox.Triple(app, RDF_TYPE, APPLICATION),  # the app's role, apart from any WebID's
        ox.Triple(grant, _n(DCT, "title"), ox.Literal(client.client_name or client.client_id)),
        ox.Triple(grant, _n(DPV, "hasLegalBasis"), _n(DPV, "Consent")),
        ox.Triple(grant, _n(DPV, "hasConsentStatus"), _n(DPV, "ConsentGiven")),
        ox.Triple(grant, _n(DCT, "issued"), ox.Literal(_stamp(now), datatype=XSD_DATETIME)),
    ]
    if client.agent_webid:
        triples.append(ox.Triple(grant, _n(ODRL, "assignee"), ox.NamedNode(client.agent_webid)))
    for a in accepted:
        for where in a.where:
            triples += _permission(grant, where, a.need, now + a.days * 86400)
    body = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=TURTLE_PREFIXES)
    await rt.resources.put(keys, target, body, "text/turtle",
                           Conditions.from_headers(None, "*"))
    return grant.value


async def remember_webhook(system: SystemRecords, grant: str, url: str) -> None:
    """Keep the webhook the app declared when the owner consented (an app cannot re-point
    it later)."""
    async with system.write() as tx:
        await tx.put(WEBHOOK_RECORD + grant, dump({"url": url}))


async def webhook_of(system: SystemRecords, grant: str) -> str | None:
    """The webhook the app declared for ``grant`` when consent was given."""
    found = await system.get_json(WEBHOOK_RECORD + grant)
    return found.get("url") if found else None


async def grants(rt: Runtime, pod: str) -> list[Grant]:
    """Every grant in ``pod``, newest first."""
    keys = await rt.pods.find(pod)
    if keys is None:
        return []
    async with rt.resources.store.read(keys) as reader:
        found = await rt.access.grants(reader, keys, pod)
    return sorted(found, key=lambda g: g.issued, reverse=True)


async def revoke(rt: Runtime, pod: str, grant_iri: str) -> Grant:
    """Withdraw consent: the grant stays, for the record, with status ConsentWithdrawn.
    Returns the grant as it was before."""
    found = next((g for g in await grants(rt, pod) if g.iri == grant_iri), None)
    if found is None:
        raise NotFound(f"there is no grant {grant_iri} in this pod")
    if not found.withdrawn:
        await _withdraw(rt, pod, found)
    return found


async def _withdraw(rt: Runtime, pod: str, grant: Grant, replaced_by: str | None = None
                    ) -> None:
    keys = await rt.pods.find(pod)
    if keys is None:
        raise NotFound(f"there is no pod named {pod!r}")
    path = grant.document[len(f"{rt.settings.base_url}{pod}"):]
    replaced = f" ;\n        dcterms:isReplacedBy <{replaced_by}>" if replaced_by else ""
    patch = PREFIXES + f"""_:revoke a solid:InsertDeletePatch ;
    solid:deletes {{ <{grant.iri}> dpv:hasConsentStatus dpv:ConsentGiven . }} ;
    solid:inserts {{ <{grant.iri}> dpv:hasConsentStatus dpv:ConsentWithdrawn ;
        dcterms:modified "{_stamp(time.time())}"^^xsd:dateTime{replaced} . }} .
"""
    await rt.resources.patch(keys, Target(pod, path),
                             parse_n3_patch(patch.encode(), grant.document),
                             Conditions.from_headers(None, None))
