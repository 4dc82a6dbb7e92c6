"""Consent, from the app's side (docs/api.md §2–§8): declaring access needs, publishing a
Client ID Document, asking what a member granted, and verifying ``grant.revoked`` events.

Needs and the agent WebID are checked by :mod:`apps.sdk.needs`, the very code the server
checks them with, so a document the SDK builds is one the server accepts.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError

from apps.sdk.errors import EventError
from apps.sdk.login import discover_issuer, jwks
from apps.sdk.needs import AccessNeed, NeedError, is_iri, parse_agent, parse_need, parse_needs
from vocab.contexts import SOLID_OIDC as SOLID_OIDC_CONTEXT
from vocab.namespaces import ACL, FOAF, iri_of, namespace_of

if TYPE_CHECKING:
    from apps.sdk.client import PodClient
    from apps.sdk.resources import Resource

EVENT_TYPE = "grant-event+jwt"


def access_need(*, id: str, cls: str, modes: Sequence[str], purpose: str, description: str,
                duration: str = "P90D") -> AccessNeed:
    """One access need, checked as the server checks it (docs/api.md §3): ``cls`` is a class
    Commonpod knows (``cp:Contribution`` …), ``modes`` among read, append, write, ``purpose`` a
    DPV purpose (``dpv:ServiceProvision``), ``description`` 10–500 characters, ``duration``
    ISO 8601 (``P30D``, ``P12W``, ``P6M``, ``P1Y``; at most a year). ``NeedError`` (a
    ``ValueError``) says what is wrong."""
    return parse_need({"id": id, "class": cls, "modes": list(modes), "purpose": purpose,
                       "description": description, "duration": duration}, 0)


@dataclass
class ClientIdDocument:
    """A Client ID Document (Solid-OIDC §5.1) with Commonpod's extensions: the app's
    ``needs``, the WebID it acts as itself with (``agent_webid``, served from the same origin
    and pod as the document) and where it is told of revocations (``grant_webhook``)."""

    client_id: str
    client_name: str
    redirect_uris: list[str]
    needs: list[AccessNeed] = field(default_factory=list)
    agent_webid: str | None = None
    grant_webhook: str | None = None
    scope: str = "openid webid offline_access"
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code",
                                                            "refresh_token"])

    def to_json(self) -> dict[str, Any]:
        """The document, after the server's checks; ``NeedError`` says what would be
        refused."""
        if not is_iri(self.client_id) or not self.client_id.startswith(("https://", "http://")):
            raise NeedError("client_id must be the document's own absolute URL")
        if not self.redirect_uris or not all(isinstance(u, str) and is_iri(u)
                                             for u in self.redirect_uris):
            raise NeedError("redirect_uris must list at least one absolute URL")
        if not self.client_name.strip():
            raise NeedError("client_name must say, to the owner, which app this is")
        doc: dict[str, Any] = {
            "@context": [SOLID_OIDC_CONTEXT], "client_id": self.client_id,
            "client_name": self.client_name, "redirect_uris": list(self.redirect_uris),
            "grant_types": list(self.grant_types), "scope": self.scope}
        if self.needs:
            doc["access_needs"] = [n.as_json() for n in self.needs]
            parse_needs(doc)  # the list as a whole: at most 20, unique ids
        if self.agent_webid is not None:
            doc["agent_webid"] = self.agent_webid
        if self.grant_webhook is not None:
            doc["grant_webhook"] = self.grant_webhook
        parse_agent(doc, self.client_id)
        return doc

    def to_bytes(self) -> bytes:
        """The document as ``application/ld+json`` bytes, to be stored exactly so."""
        return json.dumps(self.to_json(), indent=2).encode()


def public_read_acl(document: str, owner: str) -> str:
    """A WAC ACL (Turtle) for ``document``: its owner keeps full control, everyone may read."""
    name = document.rsplit("/", 1)[-1]
    return (f"@prefix acl: <{namespace_of(ACL)}>.\n"
            f"<#owner> a acl:Authorization; acl:agent <{owner}>; acl:accessTo <{name}>;\n"
            "    acl:mode acl:Read, acl:Write, acl:Control.\n"
            "<#public> a acl:Authorization;\n"
            f"    acl:agentClass <{iri_of(FOAF.Agent)}>;\n"
            f"    acl:accessTo <{name}>; acl:mode acl:Read.\n")


async def publish_client_document(client: PodClient, document: ClientIdDocument) -> Resource:
    """Store ``document`` at its ``client_id`` (in a pod the client's session owns) and make
    it readable by everyone, as servers read it (docs/api.md §12)."""
    owner = client.session.webid if client.session is not None else None
    if owner is None:
        raise NeedError("publishing a Client ID Document needs a session of the pod's owner")
    stored = await client.put(document.client_id, document.to_bytes(),
                              content_type="application/ld+json")
    acl = stored.links.get("acl", [document.client_id + ".acl"])[0]
    await client.put(acl, public_read_acl(document.client_id, owner), content_type="text/turtle")
    return stored


# --- what a member granted ------------------------------------------------------------------

@dataclass(frozen=True)
class Permission:
    """What one grant allows on one target, for one purpose, until a date."""

    target: str
    cls: str | None
    modes: tuple[str, ...]
    purpose: str | None
    description: str | None
    until: datetime | None


@dataclass(frozen=True)
class Grant:
    """An active grant to this app (``GET /.api/grants/mine``): its IRI (the one a revocation
    event names), title, when it was issued, and the permissions still in force."""

    grant: str
    title: str | None
    issued: datetime | None
    permissions: tuple[Permission, ...]

    def allows(self, mode: str, cls: str | None = None) -> bool:
        """Whether some permission allows ``mode`` (read, append, write) on ``cls``."""
        return any(mode in p.modes and (cls is None or p.cls == cls) for p in self.permissions)


def _when(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def grants_of(answer: list[Any]) -> list[Grant]:
    """Typed grants from the JSON of ``/.api/grants/mine``."""
    grants = []
    for item in answer:
        if not isinstance(item, dict) or not isinstance(item.get("grant"), str):
            continue
        permissions = tuple(
            Permission(str(p.get("target", "")), _text(p.get("class")),
                       tuple(m for m in p.get("modes", []) if isinstance(m, str)),
                       _text(p.get("purpose")), _text(p.get("description")),
                       _when(p.get("until")))
            for p in item.get("permissions", []) if isinstance(p, dict))
        grants.append(Grant(item["grant"], _text(item.get("title")), _when(item.get("issued")),
                            permissions))
    return grants


# --- revocation events ------------------------------------------------------------------------

@dataclass(frozen=True)
class GrantEvent:
    """A verified ``grant.revoked`` event (docs/api.md §8). ``reason`` is
    ``"account.deleted"`` when the owner deleted their account (delete what you kept of
    theirs), ``None`` when they withdrew consent. Drop events whose ``jti`` you handled."""

    issuer: str
    client_id: str
    jti: str
    grant: str
    owner: str
    revoked_at: int
    reason: str | None = None


def _unverified_issuer(token: str) -> str:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise EventError("the event is not a JWT") from None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str):
        raise EventError("the event names no issuer")
    return issuer


async def verify_grant_event(body: bytes | str, *, client_id: str,
                             trusted_issuers: Collection[str],
                             http: httpx.AsyncClient | None = None) -> GrantEvent:
    """The event a webhook ``POST`` body (``application/jwt``) carries, after checking it: an
    issuer you trust (checked before anything is fetched), its signature against that issuer's
    JWKS, ``typ``, ``aud`` (your client id), ``event`` and the claims a revocation has.
    :class:`~apps.sdk.errors.EventError` says what is wrong."""
    token = body.decode("ascii", errors="replace") if isinstance(body, bytes) else body
    token = token.strip()
    issuer = _unverified_issuer(token)
    if issuer not in trusted_issuers:
        raise EventError(f"the event comes from {issuer!r}, an issuer you do not trust")
    keys = await jwks(await discover_issuer(issuer, http), http)
    try:
        decoded = jwt.decode(token, keys, algorithms=["ES256", "ES384", "RS256", "PS256",
                                                      "EdDSA"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer},
                              aud={"essential": True, "value": client_id},
                              jti={"essential": True},
                              event={"essential": True, "value": "grant.revoked"},
                              grant={"essential": True}, owner={"essential": True},
                              revoked_at={"essential": True}).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise EventError(f"not a valid grant event: {exc}") from None
    if decoded.header.get("typ") != EVENT_TYPE:
        raise EventError(f"not a grant event (typ {decoded.header.get('typ')!r})")
    c = decoded.claims
    return GrantEvent(issuer, client_id, str(c["jti"]), str(c["grant"]), str(c["owner"]),
                      int(c["revoked_at"]), _text(c.get("reason")))
