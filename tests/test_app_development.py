"""What app developers hit first (issue #10 §3): the recommended Client ID Document stored as
written, documents of this server read from its own store (with the anonymous-read rule) rather
than fetched, ``Accept: */*`` answering the syntax a document was written in, and the endpoint
that tells an app what it was granted."""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import ROOT, Server, new_server
from tests.dpop import DPoPClient, dpop_headers, operator_token
from tests.test_apps import (
    CP,
    NEEDS,
    TTL,
    AppSession,
    Member,
    client_document,
    grants_of,
    member,
    sign_in_with_app,
)
from tests.test_oidc_code_flow import REDIRECT, auth_query, pkce

API_DOC = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
JSON_LD = {"Content-Type": "application/ld+json"}


def recommended_client_document() -> str:
    """The Client ID Document docs/api.md recommends, exactly as written there."""
    for body in re.findall(r"^```json\n(.*?)^```", API_DOC, re.MULTILINE | re.DOTALL):
        if "oidc-context.jsonld" in body and '"client_id"' in body:
            return body
    raise AssertionError("docs/api.md shows no Client ID Document")


def test_the_recommended_client_id_document_is_stored_as_written(server: Server,
                                                                  pub: str) -> None:
    """The Solid-OIDC context is bundled: the document is accepted as JSON-LD (not 400
    "not bundled") and kept byte for byte."""
    body = recommended_client_document().encode()
    url = server.base + pub[1:] + "board.json"
    r = httpx.put(url, content=body, headers=JSON_LD)
    assert r.status_code == 201, r.text
    got = httpx.get(url, headers={"Accept": "application/ld+json"})
    assert got.content == body
    turtle = httpx.get(url, headers={"Accept": "text/turtle"}).text  # read with the context
    assert "<http://www.w3.org/ns/solid/oidc#redirect_uris>" in turtle
    assert "<https://board.riverside.example/callback>" in turtle


def signed_credential() -> bytes:
    from nacl.signing import SigningKey

    from apps.sdk.statements.credentials import sign
    from apps.sdk.statements.multikey import did_key, did_key_vm

    seed = bytes(range(7, 39))
    issuer = did_key(bytes(SigningKey(seed).verify_key))
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:3a1f0c1e-7d2b-4c55-9b0e-5b1d2c3e4f50",
        "type": ["VerifiableCredential"], "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://pods.example/amara/profile/card#me",
                              "name": "Amara"}}
    signed = sign(credential, private_key=seed, verification_method=did_key_vm(
        bytes(SigningKey(seed).verify_key)))
    return json.dumps(signed, indent=2).encode()


def test_a_plain_get_answers_the_syntax_a_document_was_written_in(server: Server,
                                                                  pub: str) -> None:
    """``Accept: */*`` (curl, httpx) or no Accept at all: a signed JSON-LD credential comes back
    as written, so its proof still verifies; a Turtle document as Turtle."""
    import asyncio

    from apps.sdk.statements.credentials import verify

    body = signed_credential()
    url = server.base + pub[1:] + "vc.json"
    assert httpx.put(url, content=body, headers=JSON_LD).status_code == 201
    for headers in ({}, {"Accept": "*/*"}, {"Accept": "text/*;q=0.1, */*"}):
        r = httpx.get(url, headers=headers)  # httpx sends Accept: */* by default
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/ld+json" and r.content == body
    raw = httpx.Client().build_request("GET", url)
    del raw.headers["accept"]
    with httpx.Client() as bare:
        r = bare.send(raw)
    assert r.content == body
    verdict = asyncio.run(verify(json.loads(r.content)))
    assert verdict.verified, verdict.reasons
    # a preference is still honoured, and a Turtle document stays Turtle
    assert httpx.get(url, headers={"Accept": "text/turtle"}).headers[
        "content-type"].startswith("text/turtle")
    ttl = server.base + pub[1:] + "note.ttl"
    note = b"<#it> <http://example.org/ns#says> \"hello\" .\n"
    assert httpx.put(ttl, content=note, headers={"Content-Type": "text/turtle"}
                     ).status_code == 201
    r = httpx.get(ttl)
    assert r.headers["content-type"].startswith("text/turtle") and r.content == note



# --- documents of this server are read from its store, not fetched -------------------------------


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server as a developer runs it on their machine: loopback, private fetches off."""
    srv = new_server(tmp_path_factory.mktemp("dev"), allow_private_fetch=False)
    srv.start()
    yield srv
    srv.stop()


PUBLIC_READ = """@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#owner> a acl:Authorization; acl:agent <{webid}>; acl:accessTo <{doc}>;
    acl:mode acl:Read, acl:Write, acl:Control.
<#public> a acl:Authorization; acl:agentClass <http://xmlns.com/foaf/0.1/Agent>;
    acl:accessTo <{doc}>; acl:mode acl:Read.
"""


@dataclass
class Community:
    """The community app's account, its Client ID Document in its pod (as JSON-LD), and a
    member who consented to it."""

    own: DPoPClient
    webid: str
    client_id: str
    member: Member
    app: AppSession


@pytest.fixture(scope="module")
def community(dev: Server) -> Community:
    river = dev.create_account("riverside")
    own = DPoPClient(dev.base, river)
    url = river["pod"] + "board.json"
    doc = client_document(url, NEEDS, agent_webid=river["webid"])
    assert own.request("PUT", url, content=doc, headers=JSON_LD).status_code == 201
    # not public yet: refused, and the page says what to do
    _, challenge = pkce()
    r = httpx.get(dev.base + auth_query(url, challenge)[1:])
    assert r.status_code == 400 and "readable by everyone" in r.text, r.text
    acl = PUBLIC_READ.format(webid=river["webid"], doc="board.json")
    assert own.request("PUT", url + ".acl", content=acl.encode(),
                       headers=TTL).status_code == 201
    ivy = member(dev, "ivy", contributions=2)
    app = sign_in_with_app(dev, ivy, url, untick=("rewards",))
    return Community(own, river["webid"], url, ivy, app)


def test_a_client_id_document_kept_on_this_server_needs_no_private_fetch(
        community: Community) -> None:
    """Stored as JSON-LD with the Solid-OIDC context, made public by an ACL, read from the
    store: the whole sign-in works on a server that may not fetch from loopback."""
    ivy = community.member
    assert community.app.request("GET", ivy.pod + "contributions/c1").status_code == 200
    assert community.app.request("GET", ivy.pod + "settings/prefs.ttl").status_code == 403
    # the app acting as itself (its agent_webid) was named in the grant too
    assert community.own.request("GET", ivy.pod + "contributions/c2").status_code == 200


def test_another_issuers_token_for_a_webid_of_this_server_is_refused_unread(
        dev: Server, server: Server, community: Community) -> None:
    """Its profile is neither fetched nor read: the answer names the rule, not a fetch."""
    ivy = community.member
    token, key = operator_token(server.data_dir, server.base, webid=ivy.webid)
    url = ivy.pod + "contributions/c1"
    r = httpx.get(url, headers=dpop_headers(key, token, "GET", url))
    assert r.status_code == 401 and "this server's issuer" in r.json()["detail"], r.text


# --- what an app was granted: /.api/grants/mine --------------------------------------------------


def mine(client: DPoPClient | AppSession | None, dev: Server, pod: str) -> httpx.Response:
    url = dev.base + ".api/grants/mine"
    if client is None:
        return httpx.get(url, params={"pod": pod})
    return client.request("GET", url, params={"pod": pod})


def test_an_app_can_ask_what_it_was_granted(dev: Server, community: Community) -> None:
    ivy = community.member
    before = time.time()
    r = mine(community.app, dev, "ivy")
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["pod"] == ivy.pod and answer["app"] == community.client_id
    [grant] = answer["grants"]
    assert set(grant) == {"grant", "title", "issued", "permissions"}  # no other assignees
    [perm] = grant["permissions"]  # the rewards need was unticked
    assert perm["target"] == ivy.pod + "contributions/" and perm["modes"] == ["read"]
    assert perm["class"] == CP + "Contribution"
    assert perm["purpose"] == "https://w3id.org/dpv#ServiceProvision"
    assert perm["description"] == NEEDS[0]["description"]
    until = calendar.timegm(time.strptime(perm["until"], "%Y-%m-%dT%H:%M:%SZ"))
    assert before + 89 * 86400 < until < time.time() + 91 * 86400  # P90D
    # the same grant, seen by the app acting as itself
    r = mine(community.own, dev, "ivy")
    assert r.status_code == 200 and r.json()["agent"] == community.webid
    assert [g["grant"] for g in r.json()["grants"]] == [grant["grant"]]


def test_an_app_sees_only_its_own_grants(dev: Server, community: Community) -> None:
    ivy = community.member
    meta = {"redirect_uris": [REDIRECT], "client_name": "Other app",
            "grant_types": ["authorization_code"], "token_endpoint_auth_method": "none",
            "scope": "openid webid", "access_needs": NEEDS[1:]}
    r = httpx.post(dev.base + ".oidc/reg", json=meta)
    assert r.status_code == 201, r.text
    other = sign_in_with_app(dev, ivy, r.json()["client_id"])
    theirs = mine(other, dev, "ivy").json()
    [grant] = theirs["grants"]
    assert theirs["app"] == "urn:commonpod:client:" + r.json()["client_id"]
    assert [p["class"] for p in grant["permissions"]] == [CP + "RewardStatement"]
    ours = mine(community.app, dev, "ivy").json()["grants"]
    assert grant["grant"] not in [g["grant"] for g in ours]
    assert all(p["class"] == CP + "Contribution" for g in ours for p in g["permissions"])


def test_who_may_ask_what_it_was_granted(dev: Server, community: Community) -> None:
    """401 without a token; 404 for a pod that does not exist; 403 for the owner acting
    directly (every grant is at /.api/grants) and for an app acting for someone else."""
    ivy = community.member
    r = mine(None, dev, "ivy")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("DPoP")
    assert mine(community.app, dev, "nobody-here").status_code == 404
    r = mine(ivy.own, dev, "ivy")
    assert r.status_code == 403 and "/.api/grants" in r.json()["detail"]
    jo = member(dev, "jo")
    for_jo = sign_in_with_app(dev, jo, community.client_id)
    assert mine(for_jo, dev, "ivy").status_code == 403
    assert mine(for_jo, dev, "jo").json()["grants"][0]["permissions"][0]["target"] == \
        jo.pod + "contributions/"
    # a stranger acting as itself holds nothing in ivy's pod: an empty answer, not an error
    r = mine(jo.own, dev, "ivy")
    assert r.status_code == 200 and r.json() == {"pod": ivy.pod, "agent": jo.webid,
                                                 "grants": []}
    # revoked: gone from the answer at once
    [grant] = [g for g in grants_of(ivy, dev) if g["status"] == "active"
               and community.client_id in g["apps"]]
    revoke = f"{dev.base}.api/grants/revoke?pod=ivy"
    assert ivy.own.request("POST", revoke, json={"grant": grant["grant"]}).status_code == 200
    assert mine(community.app, dev, "ivy").json()["grants"] == []


# --- docs/api.md §12, local development, as written --------------------------------------------


def local_development_section() -> str:
    section = API_DOC[API_DOC.index("## 12. Local development"):]
    end = section.find("\n## ", 1)  # up to the next section
    return section if end == -1 else section[:end]


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def test_the_local_development_section_works_as_written(dev: Server) -> None:
    """Its Client ID Document, ACL and key-publishing patch, with the doc's base URL and
    account swapped for a live server's: stored as written, public, usable for sign-in on a
    server that may not fetch from loopback, and the key lands in the profile."""
    made = dev.create_account("riverdev")
    own = DPoPClient(dev.base, made)
    section = local_development_section()

    def here(text: str) -> str:
        return text.replace("http://127.0.0.1:8000/", dev.base).replace("riverside", "riverdev")

    [doc] = fenced(section, "json")
    [acl] = fenced(section, "turtle")
    [patch] = fenced(section, "n3")
    url = dev.base + "riverdev/board.json"
    body = here(doc).encode()
    assert own.request("PUT", url, content=body, headers=JSON_LD).status_code == 201
    assert httpx.get(url).status_code == 401  # owner-only until the ACL
    r = own.request("PUT", url + ".acl", content=here(acl).encode(), headers=TTL)
    assert r.status_code == 201, r.text
    assert httpx.get(url).content == body  # public, and as written
    _, challenge = pkce()
    query = auth_query(url, challenge, redirect_uri="http://127.0.0.1:5173/callback")
    r = httpx.get(dev.base + query[1:])
    assert r.status_code == 303 and "/.account/login" in r.headers["location"], r.text
    card = dev.base + "riverdev/profile/card"
    r = own.request("PATCH", card, content=here(patch).encode(),
                    headers={"Content-Type": "text/n3"})
    assert r.status_code == 204, r.text
    profile = httpx.get(card, headers={"Accept": "text/turtle"}).text
    assert "z6Mkf5rGMoatrSj1f4CyvuHBeXJELe9RPdzo2PKGNCKVtZxP" in profile
    assert "/.api/grants/mine" in section
