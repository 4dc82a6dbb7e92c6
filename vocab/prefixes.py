"""The prefixes Commonpod writes and reads in compact IRIs (``cp:Contribution``), one map for
the whole code base: expanding what apps send, shortening IRIs in messages, declaring
prefixes in the Turtle the server writes."""

from __future__ import annotations

#: prefix → namespace IRI
PREFIXES: dict[str, str] = {
    "cp": "https://commonpod.org/ns#",
    "vf": "https://w3id.org/valueflows/ont/vf#",
    "schema": "https://schema.org/",
    "cred": "https://www.w3.org/2018/credentials#",
    "obv3": "https://purl.imsglobal.org/spec/vc/ob/vocab.html#",
    "prov": "http://www.w3.org/ns/prov#",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "dpv": "https://w3id.org/dpv#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "solid": "http://www.w3.org/ns/solid/terms#",
    "as": "https://www.w3.org/ns/activitystreams#",
    "sh": "http://www.w3.org/ns/shacl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "om2": "http://www.ontology-of-units-of-measure.org/resource/om-2/",
}


def expand(value: str) -> str:
    """``prefix:name`` as a full IRI when the prefix is known; anything else unchanged."""
    prefix, colon, name = value.partition(":")
    namespace = PREFIXES.get(prefix) if colon else None
    return namespace + name if namespace is not None else value


def compact(iri: str) -> str:
    """An IRI as ``prefix:name`` when its namespace is known; anything else unchanged."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and iri != namespace:
            return f"{prefix}:{iri[len(namespace):]}"
    return iri
