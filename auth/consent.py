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

from auth.oidc.clients import ClientInfo
from auth.oidc.needs import DATA_KINDS, AccessNeed
from pod.access.grants import GRANTS, Grant, app_iri
from pod.errors import NotFound
from pod.resources.conditions import Conditions
from pod.resources.patch import parse_n3_patch
from pod.resources.paths import Target

if TYPE_CHECKING:
    from pod.runtime import Runtime

ACTIONS = {"read": "odrl:read", "append": "odrl:append", "write": "odrl:modify"}
PROFILE_DOCUMENT = "http://xmlns.com/foaf/0.1/PersonalProfileDocument"
PREFIXES = """@prefix cp: <https://commonpod.org/ns#> .
@prefix odrl: <http://www.w3.org/ns/odrl/2/> .
@prefix dpv: <https://w3id.org/dpv#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix solid: <http://www.w3.org/ns/solid/terms#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


@dataclass(frozen=True)
class Accepted:
    """A need the owner accepted, for how many days."""

    need: AccessNeed
    days: int


def _stamp(when: float) -> str:
    """An xsd:dateTime in UTC, to the millisecond (so decisions made within a second still
    sort in order)."""
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


async def targets(rt: Runtime, pod: str, need: AccessNeed) -> list[str]:
    """Where a need's data lives in ``pod``: the type index's containers for its class."""
    pod_url = f"{rt.settings.base_url}{pod}/"
    if need.cls is None:
        return [pod_url]
    if need.cls == PROFILE_DOCUMENT:
        return [pod_url + DATA_KINDS[PROFILE_DOCUMENT][1]]
    keys = await rt.pods.find(pod)
    return await rt.resources.registered(keys, pod, need.cls) if keys else []


def _permission(target: str, need: AccessNeed, until: float) -> str:
    actions = ", ".join(ACTIONS[m] for m in need.modes)
    kind = f" solid:forClass <{need.cls}> ;" if need.cls else ""
    return f"""[
        odrl:target <{target}> ;{kind}
        odrl:action {actions} ;
        dcterms:description {_literal(need.description)} ;
        odrl:constraint [
            odrl:leftOperand odrl:purpose ; odrl:operator odrl:eq ;
            odrl:rightOperand <{need.purpose}>
        ], [
            odrl:leftOperand odrl:dateTime ; odrl:operator odrl:lt ;
            odrl:rightOperand "{_stamp(until)}"^^xsd:dateTime
        ]
    ]"""


async def record(rt: Runtime, pod: str, webid: str, client: ClientInfo,
                 accepted: list[Accepted]) -> str | None:
    """Store the owner's decision as a grant; its IRI, or ``None`` when nothing was granted.
    The decision replaces the owner's earlier grants to the same app (they are withdrawn and
    point to it), so one revocation always ends what the app holds."""
    now = time.time()
    app = app_iri(client.client_id)
    earlier = [g for g in await grants(rt, pod) if app in g.assignees and not g.withdrawn]
    permissions = [_permission(t, a.need, now + a.days * 86400)
                   for a in accepted for t in await targets(rt, pod, a.need)]
    made = await _write(rt, pod, webid, client, permissions, now) if permissions else None
    for grant in earlier:
        await _withdraw(rt, pod, grant, replaced_by=made)
    return made


async def _write(rt: Runtime, pod: str, webid: str, client: ClientInfo,
                 permissions: list[str], now: float) -> str:
    assignees = ", ".join(f"<{iri}>" for iri in (app_iri(client.client_id), client.agent_webid)
                          if iri)
    body = PREFIXES + f"""
<#it> a cp:AccessGrant, odrl:Agreement ;
    odrl:uid <#it> ;
    odrl:assigner <{webid}> ;
    odrl:assignee {assignees} ;
    dcterms:title {_literal(client.client_name or client.client_id)} ;
    dpv:hasLegalBasis dpv:Consent ;
    dpv:hasConsentStatus dpv:ConsentGiven ;
    dcterms:issued "{_stamp(now)}"^^xsd:dateTime ;
    odrl:permission {", ".join(permissions)} .
"""
    slug = re.sub(r"[^a-z0-9]+", "-", (client.client_name or "app").lower()).strip("-")[:40]
    name = f"{slug or 'app'}-{secrets.token_hex(6)}"
    keys = await rt.pods.find(pod)
    if keys is None:
        raise NotFound(f"there is no pod named {pod!r}")
    target = Target(pod, GRANTS + name)
    await rt.resources.put(keys, target, body.encode(), "text/turtle",
                           Conditions.from_headers(None, "*"))
    return rt.resources.url(target) + "#it"


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
