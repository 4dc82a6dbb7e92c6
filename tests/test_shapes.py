"""SHACL validation of writes into containers the owner's type index registers for a class:
422 with every failed constraint and nothing stored; valid data and other containers untouched."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Server, new_server
from tests.dpop import DPoPClient

TTL = {"Content-Type": "text/turtle"}
JSONLD = {"Content-Type": "application/ld+json"}
CP = "https://commonpod.org/ns#"
VF = "https://w3id.org/valueflows/ont/vf#"
OBV3 = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
ODRL = "http://www.w3.org/ns/odrl/2/"
N3_PATCH = {"Content-Type": "text/n3"}
PROBLEMS = "https://commonpod.org/problems/"

CONTRIBUTION = """@prefix cp: <https://commonpod.org/ns#> .
@prefix vf: <https://w3id.org/valueflows/ont/vf#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#it> a cp:Contribution ;
    vf:action vf:work ;
    vf:provider <https://pods.example/amara/profile/card#me> ;
    vf:inScopeOf <https://riverside.example/projects/repair-cafe#project> ;
    vf:resourceClassifiedAs cp:Mentoring ;
    vf:hasPointInTime "2025-05-04T18:00:00Z"^^xsd:dateTime ;
    schema:name "Paired with two newcomers on their first repairs" .
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = new_server(tmp_path_factory.mktemp("shapes"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def owner(srv: Server) -> DPoPClient:
    return DPoPClient(srv.base, srv.create_account("amara"))


def register(owner: DPoPClient, cls: str, container: str) -> str:
    """Register ``container`` (a path in the pod, ending in /) for ``cls``; returns its URL."""
    pod = owner.who["pod"]
    index = pod + "settings/privateTypeIndex.ttl"
    reg = f"reg-{uuid.uuid4().hex[:8]}"
    patch = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
             "_:p a solid:InsertDeletePatch; solid:inserts {\n"
             f"  <#{reg}> a solid:TypeRegistration; solid:forClass <{cls}>;\n"
             f"    solid:instanceContainer <{pod}{container}>. }}.\n")
    r = owner.request("PATCH", index, content=patch.encode(), headers=N3_PATCH)
    assert r.status_code == 205 or r.status_code == 204 or r.status_code == 200, r.text
    return pod + container


def violations(r: httpx.Response) -> list[dict[str, str]]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"] == "https://commonpod.org/problems/shape-violation"
    return body["violations"]


def test_a_new_pod_validates_contributions(owner: DPoPClient) -> None:
    url = owner.who["pod"] + "contributions/"
    r = owner.request("POST", url, content=CONTRIBUTION.encode(), headers=TTL)
    assert r.status_code == 201, r.text
    stored = owner.request("GET", r.headers["location"])
    assert stored.status_code == 200 and stored.content == CONTRIBUTION.encode()
    bad = CONTRIBUTION.replace("vf:action vf:work", "vf:action vf:produce")
    r = owner.request("POST", url, content=bad.encode(), headers={**TTL, "Slug": "bad"})
    [v] = violations(r)
    assert v["path"] == "vf:action" and "vf:work" in v["message"]
    assert owner.request("GET", url + "bad").status_code == 404


def test_every_failed_constraint_is_listed_and_nothing_is_stored(owner: DPoPClient) -> None:
    url = owner.who["pod"] + "contributions/everything-wrong"
    bad = ("@prefix cp: <https://commonpod.org/ns#> .\n"
           "@prefix vf: <https://w3id.org/valueflows/ont/vf#> .\n"
           '<#it> a cp:Contribution ; vf:provider "me" ; vf:hasBeginning "soon" .\n')
    found = violations(owner.request("PUT", url, content=bad.encode(), headers=TTL))
    paths = sorted(v["path"] for v in found)
    assert paths == ["schema:name", "vf:action", "vf:hasBeginning", "vf:inScopeOf",
                     "vf:provider", "vf:resourceClassifiedAs"]
    assert all(v["focusNode"] == url + "#it" for v in found)
    assert owner.request("GET", url).status_code == 404


MALFORMED = [
    ("no kind", ("vf:resourceClassifiedAs cp:Mentoring ;", ""),
     "vf:resourceClassifiedAs", "at least one kind"),
    ("provider is text", ("<https://pods.example/amara/profile/card#me>", '"Amara"'),
     "vf:provider", "WebID"),
    ("two providers", ("<https://pods.example/amara/profile/card#me>",
                       "<https://pods.example/amara/profile/card#me>, <https://x.example/#me>"),
     "vf:provider", "exactly one vf:provider"),
    ("date without a type", ('"2025-05-04T18:00:00Z"^^xsd:dateTime', '"last May"'),
     "vf:hasPointInTime", "xsd:dateTime"),
    ("evidence is text", ("schema:name", 'cp:evidence "a photo" ; schema:name'),
     "cp:evidence", "link"),
    ("empty name", ('"Paired with two newcomers on their first repairs"', '""'),
     "schema:name", "1 to 500 characters"),
    ("end before beginning", ('vf:hasPointInTime "2025-05-04T18:00:00Z"^^xsd:dateTime',
                              'vf:hasBeginning "2025-05-04T18:00:00Z"^^xsd:dateTime ; '
                              'vf:hasEnd "2025-05-01T18:00:00Z"^^xsd:dateTime'),
     "vf:hasBeginning", "no later than vf:hasEnd"),
    ("negative effort", ("schema:name", "vf:effortQuantity [ "
                         "<http://www.ontology-of-units-of-measure.org/resource/om-2/"
                         "hasNumericalValue> -2 ; <http://www.ontology-of-units-of-measure.org"
                         "/resource/om-2/hasUnit> <http://x.example/hour> ] ; schema:name"),
     "vf:effortQuantity", "non-negative"),
]


@pytest.mark.parametrize(("case", "edit", "path", "words"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])
def test_each_kind_of_malformed_contribution_gets_its_message(
        owner: DPoPClient, case: str, edit: tuple[str, str], path: str, words: str) -> None:
    assert edit[0] in CONTRIBUTION
    bad = CONTRIBUTION.replace(*edit)
    url = owner.who["pod"] + f"contributions/{uuid.uuid4().hex[:8]}"
    found = violations(owner.request("PUT", url, content=bad.encode(), headers=TTL))
    assert [v["path"] for v in found] == [path], found
    assert words in found[0]["message"]
    assert owner.request("GET", url).status_code == 404


def test_no_time_at_all_is_refused(owner: DPoPClient) -> None:
    bad = CONTRIBUTION.replace('vf:hasPointInTime "2025-05-04T18:00:00Z"^^xsd:dateTime ;', "")
    url = owner.who["pod"] + "contributions/timeless"
    [v] = violations(owner.request("PUT", url, content=bad.encode(), headers=TTL))
    assert "needs a time" in v["message"]


def test_a_document_with_no_instance_of_the_class_is_refused(owner: DPoPClient) -> None:
    url = owner.who["pod"] + "contributions/notes"
    [v] = violations(owner.request("PUT", url, content=b"<#a> <#b> <#c>.", headers=TTL))
    assert "describes no instance" in v["message"] and "cp:Contribution" in v["message"]


def test_triple_terms_in_a_shaped_container_are_refused_not_a_500(owner: DPoPClient) -> None:
    """RDF 1.2 triple terms parse, but the shape checker cannot hold them: 422, nothing stored."""
    url = owner.who["pod"] + "contributions/quoted"
    body = CONTRIBUTION + '\n<#it> <#says> <<( <#it> <#is> "quoted" )>> .\n'
    r = owner.request("PUT", url, content=body.encode(), headers=TTL)
    assert r.status_code == 422, r.text
    assert "triple terms" in r.json()["detail"]
    assert owner.request("GET", url).status_code == 404


def test_an_instance_of_a_subclass_the_document_declares_is_checked_too(
        owner: DPoPClient) -> None:
    """A shaped class's instances include those of a subclass the data declares (SHACL
    §2.1.3.2): the server checks a document against every shape that can apply to it, not only
    the registered class's, so an appreciation in disguise is refused with its own message."""
    url = owner.who["pod"] + "contributions/disguised"
    body = CONTRIBUTION + (
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<#Thanks> rdfs:subClassOf <https://w3id.org/valueflows/ont/vf#Appreciation> .\n"
        "<#thanks> a <#Thanks> .\n")  # no vf:appreciationOf
    found = violations(owner.request("PUT", url, content=body.encode(), headers=TTL))
    assert [v["focusNode"] for v in found] == [url + "#thanks"], found
    assert "needs exactly one vf:appreciationOf" in found[0]["message"]
    assert owner.request("GET", url).status_code == 404
    fine = CONTRIBUTION + (
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "<#Thanks> rdfs:subClassOf <https://w3id.org/valueflows/ont/vf#Appreciation> .\n"
        "<#thanks> a <#Thanks> ; <https://w3id.org/valueflows/ont/vf#appreciationOf> <#it> .\n")
    assert owner.request("PUT", url, content=fine.encode(), headers=TTL).status_code == 201


def test_a_directional_string_in_a_shaped_container_is_refused_not_a_500(
        owner: DPoPClient) -> None:
    """RDF 1.2 directional language strings parse, but the shape checker cannot hold them."""
    url = owner.who["pod"] + "contributions/directional"
    body = CONTRIBUTION + '\n<#it> <#note> "مرحبا"@ar--rtl .\n'
    r = owner.request("PUT", url, content=body.encode(), headers=TTL)
    assert r.status_code == 422, r.text
    assert "directional" in r.json()["detail"]
    assert owner.request("GET", url).status_code == 404


def test_a_patch_that_breaks_the_shape_changes_nothing(owner: DPoPClient) -> None:
    url = owner.who["pod"] + "contributions/patched"
    assert owner.request("PUT", url, content=CONTRIBUTION.encode(), headers=TTL).status_code == 201
    before = owner.request("GET", url)
    patch = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
             "@prefix vf: <https://w3id.org/valueflows/ont/vf#>.\n"
             "_:p a solid:InsertDeletePatch; solid:deletes { <#it> vf:action vf:work. }.\n")
    [v] = violations(owner.request("PATCH", url, content=patch.encode(), headers=N3_PATCH))
    assert v["path"] == "vf:action"
    after = owner.request("GET", url)
    assert after.content == before.content and after.headers["etag"] == before.headers["etag"]


def test_outside_registered_containers_nothing_is_validated(owner: DPoPClient) -> None:
    bad = CONTRIBUTION.replace("vf:action vf:work", "vf:action vf:produce")
    url = owner.who["pod"] + "drafts/contribution"
    assert owner.request("PUT", url, content=bad.encode(), headers=TTL).status_code == 201
    # auxiliary resources and sub-containers of a registered container are not instances
    acl = owner.who["pod"] + "contributions/.acl"
    assert owner.request("GET", acl).status_code in (200, 404)
    sub = owner.request("PUT", owner.who["pod"] + "contributions/2025/", headers=TTL)
    assert sub.status_code == 201


def test_a_type_index_change_applies_to_the_next_write(owner: DPoPClient) -> None:
    url = owner.who["pod"] + "rota/1"
    bad = "<#a> <#b> <#c>."
    assert owner.request("PUT", url, content=bad.encode(), headers=TTL).status_code == 201
    register(owner, CP + "Contribution", "rota/")
    violations(owner.request("PUT", owner.who["pod"] + "rota/2", content=bad.encode(),
                             headers=TTL))
    # data already there before the registration stays as it was
    assert owner.request("GET", url).content == bad.encode()


# --- the examples in the docs --------------------------------------------------------------

DOCS = [ROOT / "docs" / "vocabulary.md", ROOT / "docs" / "contributions.md"]
ALSO = [ROOT / "docs" / "statements.md"]  # its examples of shaped classes (others: keys)
CLASS_OF = {"cp:Contribution": CP + "Contribution", "vf:Appreciation": VF + "Appreciation",
            "cp:ReputationStatement": CP + "ReputationStatement",
            "cp:AccessGrant": CP + "AccessGrant", "RewardStatement": CP + "RewardStatement",
            "EndorsementCredential": OBV3 + "EndorsementCredential"}


def examples() -> list[tuple[str, str, str]]:
    """(docs file, media type, body) of every Turtle and JSON example in the docs."""
    found = []
    for doc in DOCS + ALSO:
        text = Path(doc).read_text(encoding="utf-8")
        for lang, body in re.findall(r"```(turtle|json)\n(.*?)```", text, re.S):
            if lang == "json" and '"@context"' not in body:
                continue
            if doc in ALSO and not classes_in(body):
                continue
            found.append((doc.name, "text/turtle" if lang == "turtle" else
                          "application/ld+json", body))
    return found


def classes_in(body: str) -> list[str]:
    return [iri for name, iri in CLASS_OF.items()
            if re.search(rf"(\ba |, |\"){re.escape(name)}\b", body) or
            f'"{name}"' in body or f'#{name.split(":")[-1]}"' in body]


@pytest.mark.parametrize(("doc", "media", "body"), examples(),
                         ids=[f"{d}-{i}" for i, (d, _, _) in enumerate(examples())])
def test_every_example_in_the_docs_fits_its_shape(owner: DPoPClient, doc: str, media: str,
                                                   body: str) -> None:
    classes = classes_in(body)
    assert classes, "each example shows an instance of a class with a shape"
    for cls in classes:
        container = register(owner, cls, f"examples-{uuid.uuid4().hex[:8]}/")
        r = owner.request("PUT", container + "example", content=body.encode(),
                          headers={"Content-Type": media})
        assert fits(r), json.dumps(r.json(), indent=1)


def fits(r: httpx.Response) -> bool:
    """Stored, or refused only because a statement's proof does not verify (the examples'
    issuers are not real: tests/test_statements_written.py covers proofs)."""
    return r.status_code == 201 or (
        r.status_code == 422 and r.json()["type"] == PROBLEMS + "unverified-statement")


def test_the_shapes_are_served(srv: Server) -> None:
    r = httpx.get(srv.base + ".vocab/shapes")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    assert r.content == (ROOT / "vocab" / "shapes.ttl").read_bytes()


ENDORSEMENT = {
    "@context": ["https://www.w3.org/ns/credentials/v2",
                 "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "urn:uuid:8d3c1a7e-2f4b-4c55-9a61-3e0f2b7d9c11",
    "type": ["VerifiableCredential", "EndorsementCredential"],
    "issuer": {"id": "https://pods.example/jonas/profile/card#me", "type": ["Profile"]},
    "validFrom": "2025-05-01T00:00:00Z",
    "name": "Jonas endorses the community carer badge",
    "credentialSubject": {"id": "https://pods.example/riverside/badges/carer#achievement",
                          "type": ["EndorsementSubject"],
                          "endorsementComment": "The criteria match what care work looks like."}}


def _doc_example(fragment: str) -> str:
    return next(body for _, _, body in examples() if fragment in body)


OTHER_CLASSES = [
    ("endorsement without VerifiableCredential", OBV3 + "EndorsementCredential",
     json.dumps(ENDORSEMENT).replace('"VerifiableCredential", ', ""), "VerifiableCredential"),
    ("endorsement without a validFrom", OBV3 + "EndorsementCredential",
     json.dumps({k: v for k, v in ENDORSEMENT.items() if k != "validFrom"}), "validFrom"),
    ("reward without criteria", CP + "RewardStatement",
     re.sub(r',\s*"criteria": \{[^}]*\}', "", _doc_example('"criteria"')), "credentialSubject"),
    ("reward issuer without an id", CP + "RewardStatement",
     _doc_example('"criteria"').replace('"id": "https://pods.example/riverside/profile/card#me",',
                                        ""), "issuer"),
    ("score above the best rating", CP + "ReputationStatement",
     _doc_example("cp:reputation <").replace("schema:ratingValue 0.82", "schema:ratingValue 1.5"),
     "cp:reputation"),
    ("grant without a purpose", CP + "AccessGrant",
     re.sub(r"odrl:leftOperand odrl:purpose ;.*?\], \[", "",
            _doc_example("odrl:permission"), flags=re.S),
     "odrl:permission"),
    ("grant not based on consent", CP + "AccessGrant",
     _doc_example("odrl:permission").replace("dpv:hasLegalBasis dpv:Consent",
                                             "dpv:hasLegalBasis dpv:LegitimateInterest"),
     "dpv:Consent"),
]


def test_an_endorsement_credential_fits_its_shape(owner: DPoPClient) -> None:
    container = register(owner, OBV3 + "EndorsementCredential", "endorsements/")
    r = owner.request("PUT", container + "carer", content=json.dumps(ENDORSEMENT).encode(),
                      headers=JSONLD)
    assert fits(r), r.text  # (unsigned: refused for its proof, not its shape)


@pytest.mark.parametrize(("case", "cls", "body", "words"), OTHER_CLASSES,
                         ids=[c[0] for c in OTHER_CLASSES])
def test_each_class_refuses_malformed_data_with_its_message(
        owner: DPoPClient, case: str, cls: str, body: str, words: str) -> None:
    container = register(owner, cls, f"malformed-{uuid.uuid4().hex[:8]}/")
    media = "application/ld+json" if body.lstrip().startswith("{") else "text/turtle"
    found = violations(owner.request("PUT", container + "x", content=body.encode(),
                                     headers={"Content-Type": media}))
    assert any(words in v["message"] or words in v.get("path", "") for v in found), found
    assert owner.request("GET", container + "x").status_code == 404
