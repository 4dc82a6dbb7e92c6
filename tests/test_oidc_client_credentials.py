"""Client credentials and DPoP-bound tokens, end to end against a live server."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from tests.conftest import Server, cli
from tests.dpop import DPoPKey, client_credentials_token, dpop_headers, operator_token

TTL = {"Content-Type": "text/turtle"}


@pytest.fixture(scope="module")
def owner(server: Server) -> dict[str, str]:
    """An account with a client credential: its WebID, pod, id and secret."""
    made = json.loads(cli("account", "create", "olga", "--password-file", "-",
                          data_dir=server.data_dir, input="correct horse battery\n").stdout)
    cred = json.loads(cli("credentials", "create", "olga", "--label", "tests",
                          data_dir=server.data_dir).stdout)
    assert cred["webid"] == made["webid"] and cred["issuer"] == server.base
    return {**made, **cred}


@pytest.fixture
def key() -> DPoPKey:
    return DPoPKey()


def _token(server: Server, owner: dict[str, str], key: DPoPKey) -> str:
    return client_credentials_token(server.base, owner["client_id"], owner["client_secret"], key)


def test_discovery_and_jwks(server: Server) -> None:
    meta = httpx.get(server.base + ".well-known/openid-configuration").json()
    assert meta["issuer"] == server.base
    assert "client_credentials" in meta["grant_types_supported"]
    assert "webid" in meta["scopes_supported"]
    assert meta["solid_oidc_supported"] == "https://solidproject.org/TR/solid-oidc"
    assert "ES256" in meta["dpop_signing_alg_values_supported"]
    keys = httpx.get(meta["jwks_uri"]).json()["keys"]
    assert keys and all("d" not in k for k in keys)


def test_owner_reads_and_writes_their_private_pod(server: Server, owner, key) -> None:
    token = _token(server, owner, key)
    url = owner["pod"] + "notes/a.ttl"
    r = httpx.put(url, content=b"<#a> <#b> <#c>.",
                  headers={**TTL, **dpop_headers(key, token, "PUT", url)})
    assert r.status_code == 201, r.text
    got = httpx.get(url, headers=dpop_headers(key, token, "GET", url))
    assert got.status_code == 200
    assert 'user="read append write control"' in got.headers["wac-allow"]
    assert 'public=""' in got.headers["wac-allow"]
    assert httpx.get(url).status_code == 401  # still private to everyone else


def test_acl_change_applies_on_the_next_request(server: Server, owner, key) -> None:
    token = _token(server, owner, key)
    doc = owner["pod"] + "shared/doc.ttl"
    acl = owner["pod"] + "shared/.acl"
    assert httpx.put(doc, content=b"<#a> <#b> <#c>.",
                     headers={**TTL, **dpop_headers(key, token, "PUT", doc)}).status_code == 201
    assert httpx.get(doc).status_code == 401
    public = (f"@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
              f"<#o> a acl:Authorization; acl:agent <{owner['webid']}>; acl:accessTo <./>;"
              f" acl:default <./>; acl:mode acl:Read, acl:Write, acl:Control.\n"
              f"<#p> a acl:Authorization; acl:agentClass <http://xmlns.com/foaf/0.1/Agent>;"
              f" acl:default <./>; acl:mode acl:Read.\n").encode()
    assert httpx.put(acl, content=public,
                     headers={**TTL, **dpop_headers(key, token, "PUT", acl)}).status_code == 201
    assert httpx.get(doc).status_code == 200
    assert httpx.delete(acl, headers=dpop_headers(key, token, "DELETE", acl)).status_code == 204
    assert httpx.get(doc).status_code == 401


def test_other_agents_get_403_not_401(server: Server, owner, key) -> None:
    other = json.loads(cli("account", "create", "otto", "--password-file", "-",
                           data_dir=server.data_dir, input="another fine password\n").stdout)
    cred = json.loads(cli("credentials", "create", "otto", data_dir=server.data_dir).stdout)
    token = client_credentials_token(server.base, cred["client_id"], cred["client_secret"], key)
    url = owner["pod"]
    r = httpx.get(url, headers=dpop_headers(key, token, "GET", url))
    assert r.status_code == 403
    assert other["webid"] in r.json()["detail"]


@pytest.mark.parametrize("case", ["replayed", "wrong method", "wrong url", "other key",
                                  "bearer", "no proof", "forged", "stale proof", "wrong ath"])
def test_rejections_are_401(server: Server, owner, key, case: str) -> None:
    token = _token(server, owner, key)
    url = owner["pod"]
    headers = dpop_headers(key, token, "GET", url)
    if case == "replayed":
        assert httpx.get(url, headers=headers).status_code == 200
    elif case == "wrong method":
        headers["DPoP"] = key.proof("POST", url, token)
    elif case == "wrong url":
        headers["DPoP"] = key.proof("GET", owner["pod"] + "elsewhere", token)
    elif case == "other key":
        headers["DPoP"] = DPoPKey().proof("GET", url, token)
    elif case == "bearer":
        headers = {"Authorization": f"Bearer {token}"}
    elif case == "no proof":
        del headers["DPoP"]
    elif case == "forged":
        head, body, sig = token.split(".")
        headers["Authorization"] = f"DPoP {head}.{body}.{sig[::-1]}"
    elif case == "stale proof":
        headers["DPoP"] = key.proof("GET", url, token, iat=time.time() - 3600)
    elif case == "wrong ath":
        headers["DPoP"] = key.proof("GET", url, token + "x")
    r = httpx.get(url, headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "DPoP" in r.headers["www-authenticate"]


def test_a_proof_without_ath_is_accepted_when_signed_by_the_bound_key(
        server: Server, owner, key) -> None:
    """Inrupt's client omits ath; the cnf.jkt binding still confines the token to its key."""
    token = _token(server, owner, key)
    url = owner["pod"]
    ok = httpx.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": key.proof("GET", url)})
    assert ok.status_code == 200
    other = httpx.get(url, headers={"Authorization": f"DPoP {token}",
                                    "DPoP": DPoPKey().proof("GET", url)})
    assert other.status_code == 401


def test_token_endpoint_refuses_bad_clients(server: Server, owner, key) -> None:
    token_url = server.base + ".oidc/token"
    form = {"grant_type": "client_credentials"}
    no_dpop = httpx.post(token_url, data=form, auth=(owner["client_id"], owner["client_secret"]))
    assert no_dpop.status_code == 400 and no_dpop.json()["error"] == "invalid_dpop_proof"
    wrong = httpx.post(token_url, data=form, auth=(owner["client_id"], "not the secret"),
                       headers={"DPoP": key.proof("POST", token_url)})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    unknown = httpx.post(token_url, data=form, auth=("cred_nobody", "x"),
                         headers={"DPoP": key.proof("POST", token_url)})
    assert unknown.status_code == 401
    assert "no-store" in unknown.headers["cache-control"]


def test_revoked_credentials_get_no_token(server: Server, key) -> None:
    cli("account", "create", "rita", "--password-file", "-", data_dir=server.data_dir,
        input="yet another password\n")
    cred = json.loads(cli("credentials", "create", "rita", data_dir=server.data_dir).stdout)
    listed = json.loads(cli("credentials", "list", "rita", data_dir=server.data_dir).stdout)
    assert [c["client_id"] for c in listed] == [cred["client_id"]]
    assert "client_secret" not in listed[0]
    cli("credentials", "revoke", "rita", cred["client_id"], data_dir=server.data_dir)
    token_url = server.base + ".oidc/token"
    r = httpx.post(token_url, data={"grant_type": "client_credentials"},
                   auth=(cred["client_id"], cred["client_secret"]),
                   headers={"DPoP": key.proof("POST", token_url)})
    assert r.status_code == 401


def test_credentials_on_the_account_page(server: Server, key) -> None:
    import re

    from tests.test_accounts import browser, csrf_of, signup, unique

    name = unique("cp")
    with browser(server) as c:
        assert signup(c, name).status_code == 303
        page = c.get("/.account/")
        assert "No credentials yet." in page.text
        made = c.post("/.account/credentials", data={"csrf": csrf_of(page), "label": "robot"})
        assert made.status_code == 201
        client_id = re.search(r"<dt>Client id</dt><dd><code>([^<]+)</code>", made.text)[1]
        secret = re.search(r"<dt>Client secret</dt><dd><code>([^<]+)</code>", made.text)[1]
        page = c.get("/.account/")
        assert client_id in page.text and secret not in page.text  # shown once only
        token = client_credentials_token(server.base, client_id, secret, key)
        pod = f"{server.base}{name}/"
        assert httpx.get(pod, headers=dpop_headers(key, token, "GET", pod)).status_code == 200
        forged = c.post("/.account/credentials/revoke", data={"csrf": "x", "client_id": client_id})
        assert forged.status_code == 403
        gone = c.post("/.account/credentials/revoke",
                      data={"csrf": csrf_of(page), "client_id": client_id})
        assert gone.status_code == 303
        assert client_id not in c.get("/.account/").text
    token_url = server.base + ".oidc/token"
    r = httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret),
                   headers={"DPoP": key.proof("POST", token_url)})
    assert r.status_code == 401


def _forge(server: Server, **changes: object) -> tuple[str, DPoPKey]:
    return operator_token(server.data_dir, server.base, **changes)


@pytest.mark.parametrize("changes, why", [
    ({}, None),
    ({"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}, "expired"),
    ({"aud": ["someone-else"]}, "audience"),
    ({"iss": "https://other.example/"}, "issuer"),
    ({"cnf": {}}, "bound"),
])
def test_token_claims_are_checked(server: Server, changes: dict, why: str | None) -> None:
    token, key = _forge(server, **changes)
    url = server.base + "alice/"
    r = httpx.get(url, headers=dpop_headers(key, token, "GET", url))
    if why is None:
        assert r.status_code == 200  # the forging itself is sound: a valid token passes
    else:
        assert r.status_code == 401, r.text


def test_a_token_used_while_valid_is_refused_once_it_expires(server: Server) -> None:
    """A verified token is remembered for the next requests (no signature check each time);
    that memory must not outlive the token's ``exp`` (plus the 5 s leeway)."""
    now = int(time.time())
    token, key = _forge(server, iat=now, exp=now + 1)
    url = server.base + "alice/"
    assert httpx.get(url, headers=dpop_headers(key, token, "GET", url)).status_code == 200
    time.sleep(7)
    r = httpx.get(url, headers=dpop_headers(key, token, "GET", url))
    assert r.status_code == 401, r.text
    assert "expired" in r.headers["www-authenticate"]


@pytest.mark.parametrize("changes", [{"webid": 123}, {"webid": None}, {"webid": ["x"]},
                                     {"webid": "not a url"}, {"client_id": ["x"]}])
def test_claims_of_the_wrong_type_are_refused(server: Server, changes: dict) -> None:
    """Found by tests/test_fuzz.py: a validly signed token whose webid was a number was taken
    as an agent, and its access-log record then failed every flush of the owner's log."""
    token, key = _forge(server, **changes)
    url = server.base + "alice/"
    r = httpx.get(url, headers=dpop_headers(key, token, "GET", url))
    assert r.status_code == 401, r.text
    assert "invalid_token" in r.headers["www-authenticate"]


def _b64(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("kty", [["EC"], {"EC": True}])
def test_a_proof_whose_jwk_kty_is_no_string_is_refused(server: Server, owner, key,
                                                        kty: object) -> None:
    """Found by mypy: a DPoP proof whose jwk ``kty`` was a JSON array or object failed the
    key lookup with a TypeError instead of a refusal (RFC 9449 §4.3 item 7)."""
    token = _token(server, owner, key)
    url, token_url = owner["pod"], server.base + ".oidc/token"

    def proof(method: str, at: str, access_token: str | None = None) -> str:
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": {**key.jwk, "kty": kty}}
        return f"{_b64(header)}.{_b64(key.claims(method, at, access_token))}.{'A' * 86}"

    read = httpx.get(url, headers={"Authorization": f"DPoP {token}",
                                   "DPoP": proof("GET", url, token)})
    assert read.status_code == 401, read.text
    assert "DPoP" in read.headers["www-authenticate"]
    issued = httpx.post(token_url, data={"grant_type": "client_credentials"},
                        auth=(owner["client_id"], owner["client_secret"]),
                        headers={"DPoP": proof("POST", token_url)})
    assert issued.status_code == 400 and issued.json()["error"] == "invalid_dpop_proof"
