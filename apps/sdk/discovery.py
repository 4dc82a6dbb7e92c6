"""Who is this, and where is their data: WebID profiles (Solid WebID Profile §3), type
indexes (Solid Type Indexes §3) and an issuer's OpenID configuration (OpenID Connect
Discovery 1.0 §4; Solid-OIDC §4).

Pure parsing of documents already fetched; :class:`~apps.sdk.client.PodClient` fetches them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from apps.sdk.errors import InvalidResponse
from apps.sdk.rdf import Graph
from vocab.namespaces import FOAF, LDP, PIM, RDF, SOLID, iri_of
from vocab.prefixes import expand

FOAF_NAME = iri_of(FOAF.name)


def _node(term: object) -> ox.NamedNode:
    return ox.NamedNode(str(term))


@dataclass(frozen=True)
class Profile:
    """What a WebID profile says of its agent."""

    webid: str
    #: the Solid-OIDC issuers the agent signs in with (``solid:oidcIssuer``)
    issuers: tuple[str, ...]
    #: the agent's storages, i.e. pods (``pim:storage``)
    storages: tuple[str, ...]
    public_type_index: str | None = None
    #: the preferences file, readable by the owner (and apps they allowed), which names the
    #: private type index
    preferences_file: str | None = None
    inbox: str | None = None
    name: str | None = None

    @property
    def storage(self) -> str | None:
        """The agent's first storage (on Commonpod, their one pod)."""
        return self.storages[0] if self.storages else None


def profile_of(webid: str, graph: Graph) -> Profile:
    """The :class:`Profile` a WebID profile document's graph states for ``webid``."""
    me = ox.NamedNode(webid)

    def iris(predicate: object) -> tuple[str, ...]:
        return tuple(sorted(o.value for o in graph.objects(me, _node(predicate))
                            if isinstance(o, ox.NamedNode)))

    def one(predicate: object) -> str | None:
        found = iris(predicate)
        return found[0] if found else None

    name = graph.value(me, ox.NamedNode(FOAF_NAME))
    return Profile(webid, iris(SOLID.oidcIssuer), iris(PIM.storage),
                   one(SOLID.publicTypeIndex), one(PIM.preferencesFile), one(LDP.inbox),
                   name.value if isinstance(name, ox.Literal) else None)


def private_type_index(webid: str, preferences: Graph) -> str | None:
    """The private type index a preferences file names for ``webid``."""
    found = preferences.value(ox.NamedNode(webid), _node(SOLID.privateTypeIndex))
    return found.value if isinstance(found, ox.NamedNode) else None


@dataclass(frozen=True)
class TypeRegistration:
    """One entry of a type index: where instances of ``cls`` live — every document in
    ``container``, or the single document ``instance``."""

    cls: str
    container: str | None = None
    instance: str | None = None


def registrations(index: Graph) -> list[TypeRegistration]:
    """The type registrations in a type index document (Solid Type Indexes §3)."""
    found = []
    for entry in index.subjects(_node(RDF.type), _node(SOLID.TypeRegistration)):
        for cls in index.objects(entry, _node(SOLID.forClass)):
            if not isinstance(cls, ox.NamedNode):
                continue
            for c in index.objects(entry, _node(SOLID.instanceContainer)):
                if isinstance(c, ox.NamedNode):
                    found.append(TypeRegistration(cls.value, container=c.value))
            for i in index.objects(entry, _node(SOLID.instance)):
                if isinstance(i, ox.NamedNode):
                    found.append(TypeRegistration(cls.value, instance=i.value))
    return sorted(found, key=lambda r: (r.cls, r.container or "", r.instance or ""))


def containers_for(cls: str, found: list[TypeRegistration]) -> list[str]:
    """The containers registered for ``cls`` (a full IRI or ``cp:Name``)."""
    iri = expand(cls)
    return sorted({r.container for r in found if r.cls == iri and r.container})


@dataclass(frozen=True)
class IssuerConfiguration:
    """An issuer's OpenID configuration: the endpoints a client needs."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    authorization_endpoint: str | None = None
    registration_endpoint: str | None = None
    #: the whole document, for anything else
    document: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def issuer_configuration(issuer: str, document: object) -> IssuerConfiguration:
    """Check a discovery document: it must be the issuer's own (OpenID Connect Discovery 1.0
    §4.3: ``issuer`` identical to the URL it was asked of) and name a token endpoint and keys.
    """
    if not isinstance(document, dict):
        raise InvalidResponse(f"the OpenID configuration of {issuer} is not a JSON object")
    if document.get("issuer") != issuer:
        raise InvalidResponse(f"the OpenID configuration of {issuer} names another issuer, "
                              f"{document.get('issuer')!r}")
    for name in ("token_endpoint", "jwks_uri"):
        if not isinstance(document.get(name), str):
            raise InvalidResponse(f"the OpenID configuration of {issuer} has no {name}")

    def optional(name: str) -> str | None:
        value = document.get(name)
        return value if isinstance(value, str) else None

    return IssuerConfiguration(issuer, document["token_endpoint"], document["jwks_uri"],
                               optional("authorization_endpoint"),
                               optional("registration_endpoint"), document)


def configuration_url(issuer: str) -> str:
    """Where an issuer's OpenID configuration is (Solid-OIDC §4; the issuer ends with ``/``
    on Commonpod, and a trailing slash is never doubled)."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"
