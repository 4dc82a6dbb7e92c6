"""WebID profiles as controller documents: a Turtle profile read into the JSON-LD shape
:func:`pod.statements.verify` resolves (Controlled Identifiers 1.0 §2).

Pure: it takes the fetched bytes and their URL; fetching is the caller's business. Only
``sec:Multikey`` verification methods with a ``sec:publicKeyMultibase`` are kept, and the
verification relationships (``sec:assertionMethod``, ``sec:authentication``, …) of every
subject described in the document.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

SEC = "https://w3id.org/security#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RELATIONSHIPS = ("assertionMethod", "authentication", "capabilityInvocation",
                 "capabilityDelegation", "keyAgreement")
TURTLE_TYPES = ("text/turtle", "application/x-turtle")


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
        if predicate == RDF_TYPE and _iri(obj) == SEC + "Multikey":
            multikeys.add(subject)
        elif predicate == SEC + "controller" and _iri(obj):
            keys.setdefault(subject, {})["controller"] = _iri(obj)
        elif predicate == SEC + "publicKeyMultibase" and isinstance(obj, ox.Literal):
            keys.setdefault(subject, {})["publicKeyMultibase"] = obj.value
        elif predicate.startswith(SEC) and predicate[len(SEC):] in RELATIONSHIPS and _iri(obj):
            listed = relations.setdefault(subject, {}).setdefault(predicate[len(SEC):], [])
            if _iri(obj) not in listed:
                listed.append(_iri(obj))
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
    subject = next((n for n in doc["@graph"] if n["id"] == webid), {})
    return (method is not None and method.get("controller") == webid
            and method.get("publicKeyMultibase") == public_multibase
            and vm in subject.get("assertionMethod", []))
