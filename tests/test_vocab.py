"""The vocabulary: closed namespaces refuse misspelt terms; bundled contexts load offline."""

from __future__ import annotations

import pytest

from vocab import namespaces as ns
from vocab.contexts import CONTEXTS, UnknownContext, context


def test_known_terms_expand() -> None:
    assert str(ns.LDP.contains) == "http://www.w3.org/ns/ldp#contains"
    assert str(ns.SEC.DataIntegrityProof) == "https://w3id.org/security#DataIntegrityProof"
    assert str(ns.CRED.credentialSubject) == "https://www.w3.org/2018/credentials#credentialSubject"
    assert str(ns.ACL["Read"]) == "http://www.w3.org/ns/auth/acl#Read"


@pytest.mark.parametrize("namespace", [ns.LDP, ns.ACL, ns.SOLID, ns.PIM, ns.FOAF, ns.VCARD,
                                       ns.RDF, ns.XSD, ns.DCTERMS, ns.SCHEMA, ns.SEC, ns.CRED])
def test_a_misspelt_term_raises(namespace: type) -> None:
    with pytest.raises(AttributeError):
        _ = namespace.misspeltTerm
    with pytest.raises(AttributeError):
        _ = namespace["misspeltTerm"]


@pytest.mark.parametrize("url", sorted(CONTEXTS))
def test_every_bundled_context_loads(url: str) -> None:
    assert "@context" in context(url)


def test_an_unknown_context_is_refused() -> None:
    with pytest.raises(UnknownContext, match="never fetched"):
        context("https://w3id.org/security/v2")
