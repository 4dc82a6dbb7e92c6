"""WebID profiles as controller documents: a Turtle profile read into the JSON-LD shape
:func:`apps.sdk.statements.verify` resolves (Controlled Identifiers 1.0 §2).

Pure: it takes the fetched bytes and their URL; fetching is the caller's business (the
server's guarded fetcher, or the SDK's :class:`~apps.sdk.statements.resolve.HttpResolver`). Only
``sec:Multikey`` verification methods with a ``sec:publicKeyMultibase`` are kept, and the
verification relationships (``sec:assertionMethod``, ``sec:authentication``, …) of every
subject described in the document.
"""

from __future__ import annotations

import json
from typing import Any

import pyoxigraph as ox

from vocab.namespaces import RDF, SEC, SOLID, iri_of, namespace_of

_SEC, _SOLID = namespace_of(SEC), namespace_of(SOLID)
_MULTIKEY, _CONTROLLER = iri_of(SEC.Multikey), iri_of(SEC.controller)
_PUBLIC_KEY = iri_of(SEC.publicKeyMultibase)
#: the fragment of the WebID profile document naming an issuer's statement key
KEY_FRAGMENT = "vc-key-1"
RDF_TYPE = iri_of(RDF.type)
RELATIONSHIPS = ("assertionMethod", "authentication", "capabilityInvocation",
                 "capabilityDelegation", "keyAgreement")
TURTLE_TYPES = ("text/turtle", "application/x-turtle")
#: what an issuer's document may be: a WebID profile, or a JSON controller document
DOCUMENT_TYPES = ("text/turtle", "application/ld+json", "application/json",
                  "application/did+json")


class ProfileError(ValueError):
    """A profile that cannot be read; the message says why."""


def _iri(term: object) -> str | None:
    return term.value if isinstance(term, ox.NamedNode) else None


def controller_document(body: bytes, url: str) -> dict[str, Any]:
    """The controller document described by the Turtle profile at ``url``.

    Its ``id`` is the document URL; each subject with a verification relationship becomes a
    node in ``@graph`` listing its methods; each Multikey becomes a ``verificationMethod``
    entry with its ``controller`` and ``publicKeyMultibase``.
    """
    doc_url = url.split("#", 1)[0]
    try:
        triples = list(ox.parse(body, format=ox.RdfFormat.TURTLE, base_iri=doc_url))
    except (SyntaxError, ValueError) as exc:
        raise ProfileError(f"{doc_url} is not valid Turtle: {exc}") from None
    keys: dict[str, dict[str, Any]] = {}
    relations: dict[str, dict[str, list[str]]] = {}
    multikeys: set[str] = set()
    for t in triples:
        subject, predicate, obj = _iri(t.subject), t.predicate.value, t.object
        if subject is None:
            continue
        if predicate == RDF_TYPE and _iri(obj) == _MULTIKEY:
            multikeys.add(subject)
        elif predicate == _CONTROLLER and _iri(obj):
            keys.setdefault(subject, {})["controller"] = _iri(obj)
        elif predicate == _PUBLIC_KEY and isinstance(obj, ox.Literal):
            keys.setdefault(subject, {})["publicKeyMultibase"] = obj.value
        elif (predicate.startswith(_SEC) and predicate[len(_SEC):] in RELATIONSHIPS
              and (iri := _iri(obj))):
            listed = relations.setdefault(subject, {}).setdefault(predicate[len(_SEC):], [])
            if iri not in listed:
                listed.append(iri)
    methods = [{"id": vm, "type": "Multikey", **fields}
               for vm, fields in sorted(keys.items())
               if vm in multikeys and "publicKeyMultibase" in fields]
    graph: list[dict[str, Any]] = [{"id": s, **{k: sorted(v) for k, v in rels.items()}}
                                   for s, rels in sorted(relations.items())]
    return {"id": doc_url, "verificationMethod": methods, "@graph": graph}


def lists_key(body: bytes, url: str, webid: str, vm: str, public_multibase: str) -> bool:
    """Whether the profile already publishes ``vm`` as the WebID's assertion key with this
    public key."""
    doc = controller_document(body, url)
    method = next((m for m in doc["verificationMethod"] if m["id"] == vm), None)
    subject: dict[str, Any] = next((n for n in doc["@graph"] if n["id"] == webid), {})
    return (method is not None and method.get("controller") == webid
            and method.get("publicKeyMultibase") == public_multibase
            and vm in subject.get("assertionMethod", []))


def controller_of(url: str, media_type: str, body: bytes) -> dict[str, Any]:
    """The controller document a fetched document is: a Turtle WebID profile read by
    :func:`controller_document`, a JSON one as it is. ``ProfileError`` says why not."""
    if media_type in TURTLE_TYPES:
        return controller_document(body, url)
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise ProfileError(f"{url} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ProfileError(f"{url} is not a JSON object")
    return doc


def key_id(webid: str) -> str:
    """The IRI of an issuer's statement key: a fragment of its WebID profile document."""
    return f"{webid.split('#', 1)[0]}#{KEY_FRAGMENT}"


def profile_insert(webid: str, public_multibase: str) -> str:
    """An N3 Patch (Solid Protocol §5.3.1) adding the key to the WebID profile: a Multikey
    controlled by the WebID and listed as its ``assertionMethod`` (Controlled Identifiers 1.0
    §2.2, §2.3.2)."""
    vm = key_id(webid)
    return (f"@prefix solid: <{_SOLID}>.\n"
            f"@prefix sec: <{_SEC}>.\n"
            f"_:patch a solid:InsertDeletePatch; solid:inserts {{\n"
            f"  <{vm}> a sec:Multikey; sec:controller <{webid}>;\n"
            f"    sec:publicKeyMultibase \"{public_multibase}\".\n"
            f"  <{webid}> sec:assertionMethod <{vm}>.\n"
            f"}}.\n")
