"""Statements written into containers registered for reward, reputation or endorsement
statements are stored only with a Data Integrity proof that verifies: unsigned, tampered or
Turtle ones answer 422 with the verdict's reasons and nothing is stored. Issuers on this server
are read from the store (the server here may not fetch from loopback at all); issuers on
another live server through the guarded fetcher, whose answers are kept for a while."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.sdk.statements import did_key, did_key_vm, public_key, sign
from apps.sdk.statements.builders import reward_statement
from tests.conftest import Server, cli, new_server
from tests.dpop import DPoPClient
from tests.test_shapes import ENDORSEMENT, OBV3, _doc_example, register

JSONLD = {"Content-Type": "application/ld+json"}
PROBLEM = "https://commonpod.org/problems/unverified-statement"
SEED = bytes(range(1, 33))


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that may fetch nothing from private or loopback addresses: its own issuers'
    keys can only come from its store."""
    server = new_server(tmp_path_factory.mktemp("statements"), allow_private_fetch=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def owner(srv: Server) -> DPoPClient:
    return DPoPClient(srv.base, srv.create_account("amara"))


@pytest.fixture(scope="module")
def issuer(srv: Server) -> str:
    """A pod of the same server that issues statements."""
    return srv.create_pod("riverside")["webid"]


def reward(issuer: str, subject: str) -> dict[str, Any]:
    return reward_statement(
        issuer=issuer, issuer_name="Riverside Repair Café", subject=subject,
        achievement_id=issuer.split("/profile/")[0] + "/badges/carer#achievement",
        name="Community carer", description="Looked after the people who keep it going.",
        criteria="Three months of recorded care work.", evidence=[],
        credential_id=f"urn:uuid:{uuid.uuid4()}")


def signed_by(server: Server, credential: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """``credential`` signed with its issuer's pod key by ``commonpod vc sign``."""
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(credential), encoding="utf-8")
    return json.loads(cli("vc", "sign", str(path), data_dir=server.data_dir).stdout)


def put(owner: DPoPClient, url: str, credential: dict[str, Any]) -> httpx.Response:
    return owner.request("PUT", url, content=json.dumps(credential).encode(), headers=JSONLD)


def refused(r: httpx.Response) -> list[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"] == PROBLEM, problem
    assert problem["reasons"] and all(reason in problem["detail"]
                                      for reason in problem["reasons"])
    return problem["reasons"]


def test_a_signed_statement_by_an_issuer_of_this_server_is_stored(
        srv: Server, owner: DPoPClient, issuer: str, tmp_path: Path) -> None:
    statement = signed_by(srv, reward(issuer, owner.who["webid"]), tmp_path)
    url = owner.who["pod"] + "rewards/carer"
    body = json.dumps(statement).encode()
    r = owner.request("PUT", url, content=body, headers=JSONLD)
    assert r.status_code == 201, r.text
    stored = owner.request("GET", url, headers={"Accept": "application/ld+json"})
    assert stored.status_code == 200 and stored.content == body


def test_an_unsigned_statement_is_refused_with_reasons(owner: DPoPClient, issuer: str) -> None:
    url = owner.who["pod"] + "rewards/unsigned"
    reasons = refused(put(owner, url, reward(issuer, owner.who["webid"])))
    assert reasons == ["the credential has no proof"]
    assert owner.request("GET", url).status_code == 404
    r = owner.request("POST", owner.who["pod"] + "rewards/", headers={**JSONLD, "Slug": "u"},
                      content=json.dumps(reward(issuer, owner.who["webid"])).encode())
    refused(r)
    assert owner.request("GET", owner.who["pod"] + "rewards/u").status_code == 404


@pytest.mark.parametrize(("change", "words"), [
    (lambda c: c["credentialSubject"]["achievement"].update(name="Treasurer"),
     "signature does not match"),
    (lambda c: c.update(validFrom="2020-01-01T00:00:00Z"), "signature does not match"),
    (lambda c: c["proof"].update(verificationMethod=c["proof"]["verificationMethod"]
                                 .replace("#vc-key-1", "#another-key")),
     "is not in its document"),
    (lambda c: c["proof"].update(proofValue="z" + "1" * 80), "proofValue"),
], ids=["a changed claim", "a changed date", "another key", "a broken signature"])
def test_a_tampered_statement_is_refused_and_nothing_stored(
        srv: Server, owner: DPoPClient, issuer: str, tmp_path: Path, change: Any,
        words: str) -> None:
    statement = signed_by(srv, reward(issuer, owner.who["webid"]), tmp_path)
    tampered = copy.deepcopy(statement)
    change(tampered)
    url = owner.who["pod"] + f"rewards/tampered-{uuid.uuid4().hex[:6]}"
    reasons = refused(put(owner, url, tampered))
    assert any(words in reason for reason in reasons), reasons
    assert owner.request("GET", url).status_code == 404


def test_a_statement_in_turtle_or_patched_is_refused(srv: Server, owner: DPoPClient,
                                                     issuer: str, tmp_path: Path) -> None:
    turtle = _doc_example("cp:reputation <")  # fits the reputation shape; carries no proof
    url = owner.who["pod"] + "reputation/q1"
    r = owner.request("PUT", url, content=turtle.encode(), headers={"Content-Type": "text/turtle"})
    assert any("JSON-LD" in reason for reason in refused(r))
    statement = signed_by(srv, reward(issuer, owner.who["webid"]), tmp_path)
    url = owner.who["pod"] + "rewards/patched"
    body = json.dumps(statement).encode()
    assert owner.request("PUT", url, content=body, headers=JSONLD).status_code == 201
    patch = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n_:p a solid:InsertDeletePatch;"
             " solid:inserts { <#x> <#y> <#z>. }.\n")
    refused(owner.request("PATCH", url, content=patch.encode(),
                          headers={"Content-Type": "text/n3"}))
    assert owner.request("GET", url, headers={"Accept": "application/ld+json"}).content == body


def test_an_endorsement_by_a_did_key_issuer_is_checked(owner: DPoPClient) -> None:
    container = register(owner, OBV3 + "EndorsementCredential", "endorsements/")
    unsigned = {**copy.deepcopy(ENDORSEMENT), "issuer": did_key(public_key(SEED)),
                "id": f"urn:uuid:{uuid.uuid4()}"}
    statement = sign(unsigned, private_key=SEED, verification_method=did_key_vm(public_key(SEED)))
    assert put(owner, container + "signed", statement).status_code == 201
    refused(put(owner, container + "unsigned", unsigned))
    other = sign(unsigned, private_key=bytes(32), verification_method=did_key_vm(
        public_key(bytes(32))))  # signed by a key that is not the issuer's
    assert any("not by the issuer" in r for r in refused(put(owner, container + "x", other)))


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    a = new_server(tmp_path_factory.mktemp("issuing-a"))
    b = new_server(tmp_path_factory.mktemp("storing-b"))
    for server in (a, b):
        server.start()
    yield a, b
    for server in (a, b):
        server.stop()


def test_an_issuer_on_another_server_resolves_through_the_fetcher_and_is_cached(
        servers: tuple[Server, Server], tmp_path: Path) -> None:
    a, b = servers
    issuer_a = a.create_pod("board")["webid"]
    bea = DPoPClient(b.base, b.create_account("bea"))
    first, second = (signed_by(a, reward(issuer_a, bea.who["webid"]), tmp_path)
                     for _ in range(2))
    assert put(bea, bea.who["pod"] + "rewards/first", first).status_code == 201
    a.stop()  # the issuer's profile cannot be fetched any more …
    try:
        # … but B keeps what it fetched for a while
        assert put(bea, bea.who["pod"] + "rewards/second", second).status_code == 201
        stranger = a.base + "nobody/profile/card#me"
        unknown = signed_by(a, reward(issuer_a, bea.who["webid"]), tmp_path)
        unknown["issuer"]["id"] = stranger  # (the signature no longer matters: no key is found)
        unknown["proof"]["verificationMethod"] = stranger.replace("#me", "#vc-key-1")
        reasons = refused(put(bea, bea.who["pod"] + "rewards/unknown", unknown))
        assert any("could not be fetched from its server" in r for r in reasons), reasons
        assert bea.request("GET", bea.who["pod"] + "rewards/unknown").status_code == 404
    finally:
        a.start()
