"""The authorization-code flow (PKCE, consent, DPoP, refresh rotation, dynamic registration,
Client ID Documents) as a browser and an app would run it, against a live server."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.conftest import Server
from tests.dpop import DPoPKey, dpop_headers
from tests.forms import form_fields
from tests.test_accounts import browser, csrf_of, login, signup, unique

REDIRECT = "http://127.0.0.1:9/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def register(server: Server, **extra: Any) -> dict[str, Any]:
    meta = {"redirect_uris": [REDIRECT], "client_name": "Test app",
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none", "scope": "openid webid offline_access",
            **extra}
    r = httpx.post(server.base + ".oidc/reg", json=meta)
    assert r.status_code == 201, r.text
    return r.json()


def auth_query(client_id: str, challenge: str | None, redirect_uri: str = REDIRECT,
               **extra: str) -> str:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
              "scope": "openid webid offline_access", "state": "st8", "nonce": "n0nce", **extra}
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return "/.oidc/auth?" + urlencode(params)


def redirected(r: httpx.Response) -> dict[str, str]:
    assert r.status_code in (302, 303), r.text
    location = r.headers["location"]
    assert location.startswith(REDIRECT.split("?")[0]) or "callback" in location, location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def consent_page(c: httpx.Client, query: str, name: str) -> httpx.Response:
    """Authorize as a browser: to the login page, sign in, back to the consent page."""
    r = c.get(query)
    if r.status_code == 303:
        assert r.headers["location"].startswith("/.account/login?return_to=")
        back = login(c, name, return_to=query)
        assert back.status_code == 303 and back.headers["location"] == query
        r = c.get(query)
    assert r.status_code == 200, r.text
    return r


def pending_of(page: httpx.Response) -> str:
    return page.text.split('name="request" value="', 1)[1].split('"', 1)[0]


def code_for(c: httpx.Client, server: Server, client_id: str, challenge: str, name: str,
             redirect_uri: str = REDIRECT) -> str:
    page = consent_page(c, auth_query(client_id, challenge, redirect_uri), name)
    assert "Allow" in page.text and client_id in page.text
    r = c.post("/.oidc/auth", data={**form_fields(page.text, "/.oidc/auth"),
                                    "decision": "allow"})
    got = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
    assert r.status_code == 303 and r.headers["location"].startswith(redirect_uri)
    assert got["state"] == "st8" and got["iss"] == server.base
    return got["code"]


def token(server: Server, key: DPoPKey, **form: str) -> httpx.Response:
    url = server.base + ".oidc/token"
    return httpx.post(url, data=form, headers={"DPoP": key.proof("POST", url)})


@pytest.fixture(scope="module")
def user(server: Server) -> str:
    name = unique("oc")
    with browser(server) as c:
        assert signup(c, name).status_code == 303
    return name


def test_discovery_names_the_code_flow(server: Server) -> None:
    meta = httpx.get(server.base + ".well-known/openid-configuration").json()
    assert meta["authorization_endpoint"] == server.base + ".oidc/auth"
    assert meta["registration_endpoint"] == server.base + ".oidc/reg"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(
        meta["grant_types_supported"])
    assert "none" in meta["token_endpoint_auth_methods_supported"]
    assert "offline_access" in meta["scopes_supported"]


def test_full_flow_then_refresh_rotation(server: Server, user: str) -> None:
    app = register(server)
    assert "client_secret" not in app
    verifier, challenge = pkce()
    key = DPoPKey()
    with browser(server) as c:
        code = code_for(c, server, app["client_id"], challenge, user)
    r = token(server, key, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
              client_id=app["client_id"], code_verifier=verifier)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["token_type"] == "DPoP" and got["refresh_token"] and got["id_token"]
    claims = json.loads(base64.urlsafe_b64decode(got["id_token"].split(".")[1] + "=="))
    webid = f"{server.base}{user}/profile/card#me"
    assert claims["webid"] == webid and claims["nonce"] == "n0nce"
    pod = f"{server.base}{user}/"
    assert httpx.get(pod).status_code == 401
    r = httpx.get(pod, headers=dpop_headers(key, got["access_token"], "GET", pod))
    assert r.status_code == 200, r.text

    # the code is single use
    again = token(server, key, grant_type="authorization_code", code=code,
                  redirect_uri=REDIRECT, client_id=app["client_id"], code_verifier=verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    # refresh with another DPoP key: refused, and the token stays good for its own key
    other = token(server, DPoPKey(), grant_type="refresh_token",
                  refresh_token=got["refresh_token"], client_id=app["client_id"])
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    fresh = token(server, key, grant_type="refresh_token", refresh_token=got["refresh_token"],
                  client_id=app["client_id"])
    assert fresh.status_code == 200, fresh.text
    new = fresh.json()
    assert new["refresh_token"] != got["refresh_token"] and new["access_token"]
    r = httpx.get(pod, headers=dpop_headers(key, new["access_token"], "GET", pod))
    assert r.status_code == 200
    old = token(server, key, grant_type="refresh_token", refresh_token=got["refresh_token"],
                client_id=app["client_id"])
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"


def test_confidential_client_and_no_refresh_without_offline_access(server: Server,
                                                                   user: str) -> None:
    app = register(server, token_endpoint_auth_method="client_secret_basic",
                   scope="openid webid")
    assert app["client_secret"]
    verifier, challenge = pkce()
    key = DPoPKey()
    with browser(server) as c:
        code = code_for(c, server, app["client_id"], challenge, user)
    url = server.base + ".oidc/token"
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}
    wrong = httpx.post(url, data=form, auth=(app["client_id"], "nope"),
                       headers={"DPoP": key.proof("POST", url)})
    assert wrong.status_code in (400, 401) and wrong.json()["error"] == "invalid_client"
    r = httpx.post(url, data=form, auth=(app["client_id"], app["client_secret"]),
                   headers={"DPoP": key.proof("POST", url)})
    assert r.status_code == 200, r.text
    assert "refresh_token" not in r.json()


def test_authorize_without_pkce_is_refused_there(server: Server, user: str) -> None:
    app = register(server)
    with browser(server) as c:
        got = redirected(c.get(auth_query(app["client_id"], None)))
        assert got["error"] == "invalid_request" and got["state"] == "st8"
        assert got["iss"] == server.base
        plain = auth_query(app["client_id"], None, code_challenge="x" * 43,
                           code_challenge_method="plain")
        assert redirected(c.get(plain))["error"] == "invalid_request"


def test_wrong_redirect_uri_gets_an_error_page(server: Server) -> None:
    app = register(server)
    _, challenge = pkce()
    with browser(server) as c:
        r = c.get(auth_query(app["client_id"], challenge, "https://evil.example/cb"))
        assert r.status_code == 400 and "location" not in r.headers
        assert c.get(auth_query("app_unknown", challenge)).status_code == 400


@pytest.mark.parametrize("params", [
    {"response_type": '"'}, {"response_type": "code\\"}, {"response_type": "c\u00f6de"},
    {"redirect_uri": REDIRECT + '"'}, {"redirect_uri": "http://127.0.0.1:9/\u00e9"},
    {"scope": 'openid "webid"'}, {"code_challenge": "\\" * 43},
])
def test_malformed_authorization_parameters_get_an_error_page(server: Server,
                                                              params: dict[str, str]) -> None:
    """Found by tests/test_fuzz.py: a value outside its RFC 6749 Appendix A grammar once made
    authlib fail to build its error (500); it is refused on a page, and never redirected."""
    app = register(server)
    extra = dict(params)
    challenge = extra.pop("code_challenge", pkce()[1])
    query = auth_query(app["client_id"], challenge, extra.pop("redirect_uri", REDIRECT), **extra)
    with browser(server) as c:
        r = c.get(query)
    assert r.status_code == 400, r.text
    assert "location" not in r.headers and "RFC " in r.text


def test_wrong_code_verifier(server: Server, user: str) -> None:
    app = register(server)
    _, challenge = pkce()
    key = DPoPKey()
    with browser(server) as c:
        code = code_for(c, server, app["client_id"], challenge, user)
    r = token(server, key, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
              client_id=app["client_id"], code_verifier=pkce()[0])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_consent_needs_session_and_csrf_and_deny_means_denied(server: Server,
                                                              user: str) -> None:
    app = register(server)
    _, challenge = pkce()
    with browser(server) as c:
        page = consent_page(c, auth_query(app["client_id"], challenge), user)
        form = {"csrf": csrf_of(page), "request": pending_of(page), "decision": "allow"}
        no_csrf = c.post("/.oidc/auth", data={**form, "csrf": "x"})
        assert no_csrf.status_code == 403 and "location" not in no_csrf.headers
        with browser(server) as stranger:
            r = stranger.post("/.oidc/auth", data=form)
            assert r.status_code == 403 and "location" not in r.headers
        denied = redirected(c.post("/.oidc/auth", data={**form, "decision": "deny"}))
        assert denied["error"] == "access_denied" and "code" not in denied
        # the pending request was used up by the decision
        assert c.post("/.oidc/auth", data=form).status_code == 400


def test_register_refuses_bad_redirect_uris(server: Server) -> None:
    for uris in ([], ["http://example.com/cb"], ["https://a.example/cb#frag"]):
        r = httpx.post(server.base + ".oidc/reg", json={"redirect_uris": uris,
                                                         "token_endpoint_auth_method": "none"})
        assert r.status_code == 400, (uris, r.text)
        assert r.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")


@pytest.fixture
def client_document() -> Iterator[str]:
    """A Client ID Document served on loopback for the test's duration."""
    holder: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.end_headers()
            self.wfile.write(holder["doc"])

        def log_message(self, *args: Any) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/app/id"
    holder["doc"] = json.dumps({
        "@context": ["https://www.w3.org/ns/solid/oidc-context.jsonld"],
        "client_id": url, "client_name": "Document app", "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid webid offline_access"}).encode()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_client_id_document(server: Server, user: str, client_document: str) -> None:
    verifier, challenge = pkce()
    key = DPoPKey()
    with browser(server) as c:
        r = c.get(auth_query(client_document, challenge, "http://127.0.0.1:9/elsewhere"))
        assert r.status_code == 400 and "location" not in r.headers
        code = code_for(c, server, client_document, challenge, user)
    r = token(server, key, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
              client_id=client_document, code_verifier=verifier)
    assert r.status_code == 200, r.text
    pod = f"{server.base}{user}/"
    assert httpx.get(pod, headers=dpop_headers(key, r.json()["access_token"], "GET",
                                               pod)).status_code == 200
