"""The Commonpod vocabulary: the Turtle document, its closed namespace, and ``/.vocab/ns``."""

from __future__ import annotations

import json
import re

import httpx
import pyoxigraph as ox
import pytest
from pyld import jsonld

from tests.conftest import ROOT
from vocab.contexts import document_loader
from vocab.terms import CP, NAMESPACE, terms, triples

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
IS_DEFINED_BY = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#isDefinedBy")
VF = "https://w3id.org/valueflows/ont/vf#"


def defined_in_document() -> set[str]:
    """Every cp: IRI the Turtle gives a type to."""
    return {t.subject.value for t in triples()
            if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(NAMESPACE)
            and t.predicate == RDF_TYPE}


def test_every_cp_term_is_in_the_document_and_vice_versa() -> None:
    in_namespace = {str(CP[name]) for name in CP.__annotations__}
    assert in_namespace == defined_in_document()


def test_every_cp_iri_the_document_mentions_is_defined() -> None:
    mentioned = {node.value for t in triples() for node in (t.subject, t.predicate, t.object)
                 if isinstance(node, ox.NamedNode) and node.value.startswith(NAMESPACE)}
    assert mentioned <= defined_in_document()


def test_every_term_has_a_label_a_comment_and_is_defined_by_the_ontology() -> None:
    defined_by = {t.subject.value for t in triples() if t.predicate == IS_DEFINED_BY
                  and t.object == ox.NamedNode("https://commonpod.org/ns")}
    for term in terms():
        assert term.label and term.comment, term.iri
        assert term.iri in defined_by, term.iri


def test_a_misspelt_cp_term_raises() -> None:
    assert str(CP.CareWork) == "https://commonpod.org/ns#CareWork"
    with pytest.raises(AttributeError):
        _ = CP.Contributon
    with pytest.raises(AttributeError):
        _ = CP["careWork"]


def test_contribution_is_a_valueflows_economic_event() -> None:
    contribution = next(t for t in terms() if t.iri == str(CP.Contribution))
    assert contribution.parents == (VF + "EconomicEvent",)
    kinds = {t.name for t in terms() if t.kind == "concept"}
    assert kinds == {"Code", "Documentation", "Design", "Translation", "Mentoring",
                     "Moderation", "EventOrganising", "CareWork"}


def parse(body: bytes, fmt: ox.RdfFormat) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(body, fmt, base_iri="https://commonpod.org/ns",
                                       without_named_graphs=True)}


@pytest.mark.parametrize("accept", [None, "*/*", "text/turtle", "text/turtle, text/html;q=0.5"])
def test_machines_get_turtle(http: httpx.Client, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    r = http.get("/.vocab/ns", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    assert "accept" in r.headers["vary"].lower()
    assert parse(r.content, ox.RdfFormat.TURTLE) == set(triples())


def test_json_ld_on_request(http: httpx.Client) -> None:
    r = http.get("/.vocab/ns", headers={"Accept": "application/ld+json"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    json.loads(r.content)
    assert parse(r.content, ox.RdfFormat.JSON_LD) == set(triples())


def test_browsers_get_a_page_listing_every_term(http: httpx.Client) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = http.get("/.vocab/ns", headers={"Accept": browser})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    for term in terms():
        assert f"cp:{term.name}" in r.text
        assert term.label in r.text
    assert "Looking after the people of a community" in r.text


def test_an_unacceptable_type_is_refused(http: httpx.Client) -> None:
    r = http.get("/.vocab/ns", headers={"Accept": "image/png"})
    assert r.status_code == 406


DOCS = ROOT / "docs" / "vocabulary.md"


def examples(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS.read_text(), flags=re.S)


def test_the_turtle_examples_in_the_docs_parse_and_use_only_defined_cp_terms() -> None:
    blocks = examples("turtle")
    assert len(blocks) >= 4
    for block in blocks:
        used = {node.value for t in parse(block.encode(), ox.RdfFormat.TURTLE)
                for node in (t.subject, t.predicate, t.object)
                if isinstance(node, ox.NamedNode) and node.value.startswith(NAMESPACE)}
        assert used <= defined_in_document()


def test_the_reward_example_is_an_open_badge_credential_typed_as_a_reward_statement() -> None:
    (block,) = examples("json")
    quads = jsonld.to_rdf(json.loads(block), {"documentLoader": document_loader,
                                             "format": "application/n-quads"})
    types = {q.object.value for q in parse(quads.encode(), ox.RdfFormat.N_TRIPLES)
             if q.predicate == RDF_TYPE}
    assert {str(CP.RewardStatement),
            "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential",
            "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement",
            "https://www.w3.org/2018/credentials#VerifiableCredential"} <= types
