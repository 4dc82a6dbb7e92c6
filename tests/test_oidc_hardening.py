"""Issue #9 (§2, §4, §6) against live server processes: every body the server's own endpoints
read is capped while it streams; client registrations are checked field by field, so bad ones
get a 400 and nothing unusable is stored; nested or non-finite JSON is a 400; and the consent
page's CSP is built from a serialised origin that a redirect URI cannot inject into."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import Server, new_server
from tests.dpop import DPoPClient, dpop_headers
from tests.forms import form_fields
from tests.test_accounts import browser, signup, unique
from tests.test_oidc_code_flow import REDIRECT, auth_query, pkce, register

MIB = 1 << 20
BIG = 50 * MIB
FORM = "application/x-www-form-urlencoded"
NESTED = b'{"grant": "x", "deep": ' + b"[" * 5000 + b"]" * 5000 + b"}"


# --- finding 1: bodies are read within a cap, while they stream ------------------------------


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of this module's own, so its memory high-water mark is ours to read."""
    server = new_server(tmp_path_factory.mktemp("hardening"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def owner(srv: Server) -> DPoPClient:
    """The owner of pod ``owner`` with a DPoP-bound token (the grants API is owner-only)."""
    return DPoPClient(srv.base, srv.create_account("owner"))


def _no_auth(url: str) -> dict[str, str]:
    return {}


#: every route of the FastAPI side that reads a body: (path, media type, needs the owner)
BODY_ROUTES = [
    ("/.oidc/reg", "application/json", False),
    ("/.oidc/token", FORM, False),
    ("/.api/grants/revoke?pod=owner", "application/json", True),
    ("/.oidc/auth", FORM, False),
    ("/.account/signup", FORM, False),
    ("/.account/login", FORM, False),
    ("/.account/logout", FORM, False),
    ("/.account/password", FORM, False),
    ("/.account/credentials", FORM, False),
    ("/.account/credentials/revoke", FORM, False),
    ("/.account/grants/revoke", FORM, False),
]


def _auth_for(owner: DPoPClient, needs_owner: bool) -> Callable[[str], dict]:
    if not needs_owner:
        return _no_auth
    return lambda url: dpop_headers(owner.key, owner.token, "POST", url)


def _head(srv: Server, path: str, kind: str, headers: dict[str, str], framing: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{srv.port}", f"Content-Type: {kind}",
             framing, *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _exchange(srv: Server, head: bytes, chunks: Iterator[bytes], timeout: float) -> bytes:
    """Send ``head`` and then ``chunks`` (stopping when the server answers or closes) over a
    fresh socket; the start of the answer, or b"" if none came within ``timeout``."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as s:
        s.sendall(head)
        s.setblocking(False)
        answer = b""
        try:
            for chunk in chunks:
                try:
                    answer += s.recv(65536)
                    break  # the server answered before the body was complete
                except BlockingIOError:
                    pass
                s.settimeout(timeout)
                s.sendall(chunk)
                s.setblocking(False)
        except OSError:
            pass  # the server closed the connection before the whole body was sent
        s.settimeout(timeout)
        try:
            while b"\r\n\r\n" not in answer:
                part = s.recv(65536)
                if not part:
                    break
                answer += part
        except OSError:  # a timeout, or a reset after the answer was read
            pass
        return answer


def _peak_kib(srv: Server) -> int:
    """The server process's peak resident memory (VmHWM, kB): unlike VmRSS it also shows a
    body held for a moment and freed before the answer."""
    assert srv.process is not None
    status = Path(f"/proc/{srv.process.pid}/status").read_text()
    return int(next(line for line in status.splitlines()
                    if line.startswith("VmHWM:")).split()[1])


@pytest.mark.parametrize(("path", "kind", "needs_owner"), BODY_ROUTES,
                         ids=[r[0].split("?")[0] for r in BODY_ROUTES])
def test_declared_oversized_body_is_refused_before_it_is_sent(
        srv: Server, owner: DPoPClient, path: str, kind: str, needs_owner: bool) -> None:
    auth = _auth_for(owner, needs_owner)(srv.base + path[1:])
    started = time.monotonic()
    head = _head(srv, path, kind, auth, f"Content-Length: {BIG}")
    answer = _exchange(srv, head, iter(()), timeout=8)  # no body: the server must not wait
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("path", "kind", "needs_owner"), BODY_ROUTES,
                         ids=[r[0].split("?")[0] for r in BODY_ROUTES])
def test_streamed_oversized_body_is_refused_without_holding_it(
        srv: Server, owner: DPoPClient, path: str, kind: str, needs_owner: bool) -> None:
    auth = _auth_for(owner, needs_owner)(srv.base + path[1:])
    before = _peak_kib(srv)
    started = time.monotonic()
    mib = b"a" * MIB
    chunk = f"{len(mib):x}\r\n".encode() + mib + b"\r\n"
    head = _head(srv, path, kind, auth, "Transfer-Encoding: chunked")
    answer = _exchange(srv, head, iter([chunk] * (BIG // MIB) + [b"0\r\n\r\n"]), timeout=20)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert time.monotonic() - started < 30  # did not stall
    grown = _peak_kib(srv) - before
    assert grown < 16 * 1024, f"the server's peak memory grew by {grown} kB for a 50 MB body"
    assert httpx.get(srv.base + ".well-known/solid").status_code == 200


def test_token_endpoint_refuses_repeated_parameters(srv: Server) -> None:
    """RFC 6749 §3.2: parameters MUST NOT be included more than once."""
    r = httpx.post(srv.base + ".oidc/token", content="grant_type=a&grant_type=b",
                   headers={"Content-Type": FORM})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


# --- findings 2 and 3: registrations are checked field by field ------------------------------

GOOD = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}
BAD_FIELDS = [  # (what is sent, the field the answer must name)
    ({"grant_types": 1}, "grant_types"),
    ({"grant_types": [1]}, "grant_types"),
    ({"grant_types": ["implicit"]}, "grant_types"),
    ({"grant_types": [[]]}, "grant_types"),  # found by tests/test_fuzz.py: once a 500
    ({"grant_types": ["authorization_code", {}]}, "grant_types"),
    ({"scope": {}}, "scope"),
    ({"scope": ["openid"]}, "scope"),  # the stored poison of §4
    ({"scope": "openid  webid"}, "scope"),
    ({"scope": "openid email"}, "scope"),
    ({"client_uri": 1}, "client_uri"),
    ({"client_uri": "javascript:alert(1)"}, "client_uri"),
    ({"logo_uri": ["https://a.example/l.png"]}, "logo_uri"),
    ({"tos_uri": [1]}, "tos_uri"),
    ({"policy_uri": "x"}, "policy_uri"),
    ({"jwks": []}, "jwks"),
    ({"jwks": {"keys": 1}}, "jwks"),
    ({"jwks_uri": 1}, "jwks_uri"),
    ({"response_types": 1}, "response_types"),
    ({"response_types": ["token"]}, "response_types"),
    ({"token_endpoint_auth_method": 1}, "token_endpoint_auth_method"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "token_endpoint_auth_method"),
    ({"client_name": 1}, "client_name"),
    ({"client_name": {"en": "x"}}, "client_name"),
    ({"client_name": "x" * 1000}, "client_name"),
    ({"contacts": "me@example.org"}, "contacts"),
    ({"software_id": {}}, "software_id"),
    ({"software_version": []}, "software_version"),
    ({"access_needs": {}}, "access_needs"),
    ({"grant_webhook": 1}, "grant_webhook"),
]
BAD_REDIRECTS = [
    1, "https://app.example/cb", [], [1], [None], ["http://example.com/cb"],
    ["https://a.example/cb#frag"], ["https://user@a.example/cb"], ["https://a.example:99999/cb"],
    ["https://a_b.example/cb"], ["https://a..b/cb"], ["https://1.2.3/cb"],
    ["https://bücher.example/cb"], ["https://a.example/c b"], ["https://[::1/cb"],
    ["https://a;b.example/cb"], ["https://a,b.example/cb"],
    ["https://app.example;frame-ancestors *;x/cb"],
]
BAD_JSON = [
    b'{"redirect_uris": ["' + REDIRECT.encode() + b'"], "client_name": 1e999}',
    b'{"redirect_uris": ["' + REDIRECT.encode() + b'"], "client_name": NaN}',
    b'{"redirect_uris": ["' + REDIRECT.encode() + b'"], "x": -Infinity}',
    b"[" * 2000 + b"]" * 2000,
    b'{"redirect_uris": ["' + REDIRECT.encode() + b'"], "x": ' + b"[" * 2000 + b"]" * 2000
    + b"}",
    b'{"redirect_uris": ["' + REDIRECT.encode() + b'"], "x": ' + b"[" * 40 + b"]" * 40 + b"}",
    b"[]", b"null", b"not json", b"\xff\xfe",
]


def _refused(r: httpx.Response, error: str | tuple[str, ...]) -> dict[str, Any]:
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["error"] in ((error,) if isinstance(error, str) else error), body
    assert "client_id" not in body
    return body


@pytest.mark.parametrize(("extra", "field"), BAD_FIELDS, ids=[f"{f}-{i}" for i, (_, f) in
                                                              enumerate(BAD_FIELDS)])
def test_registration_with_a_bad_field_is_400_naming_it(server: Server, extra: dict,
                                                        field: str) -> None:
    r = httpx.post(server.base + ".oidc/reg", json={**GOOD, **extra})
    assert field in _refused(r, "invalid_client_metadata")["error_description"]


@pytest.mark.parametrize("uris", BAD_REDIRECTS, ids=[repr(u)[:40] for u in BAD_REDIRECTS])
def test_registration_with_a_bad_redirect_uri_is_400(server: Server, uris: object) -> None:
    r = httpx.post(server.base + ".oidc/reg", json={**GOOD, "redirect_uris": uris})
    _refused(r, "invalid_redirect_uri")


@pytest.mark.parametrize("raw", BAD_JSON, ids=[repr(b)[:30] for b in BAD_JSON])
def test_registration_that_is_not_strict_shallow_json_is_400(server: Server, raw: bytes) -> None:
    r = httpx.post(server.base + ".oidc/reg", content=raw,
                   headers={"Content-Type": "application/json"})
    _refused(r, ("invalid_client_metadata", "invalid_redirect_uri"))


def test_good_registration_keeps_what_it_understands(server: Server) -> None:
    made = register(server, client_uri="https://app.example/", contacts=["me@example.org"],
                    application_type="web", jwks=None, unknown={"deep": [1, 2]})
    assert made["client_uri"] == "https://app.example/"
    assert made["contacts"] == ["me@example.org"]
    assert "unknown" not in made and "application_type" not in made and "jwks" not in made


def _poisoned_client(srv: Server, **fields: Any) -> str:
    """A registered client stored the way a version without these checks stored it (written
    straight into the server's store while the server is stopped)."""
    from auth.oidc.clients import ClientInfo, Clients
    from pod.runtime import open_runtime
    from pod.settings import load as load_settings

    client_id = "app_" + unique("old")
    values = {"redirect_uris": (REDIRECT,), "client_name": "Old app",
              "grant_types": ("authorization_code",), "scope": "openid webid", **fields}

    async def plant() -> None:
        rt = await open_runtime(load_settings({"data_dir": srv.data_dir}))
        try:
            info = ClientInfo(client_id, values["redirect_uris"], values["client_name"],
                              values["grant_types"], values["scope"])
            await Clients(rt.system, None).save(info, {"redirect_uris": [REDIRECT]})
        finally:
            await rt.close()

    asyncio.run(plant())
    return client_id


@pytest.mark.parametrize("fields", [  # what registration let through before it was checked
    {"scope": ["openid"]},
    {"scope": {}},
    {"redirect_uris": ("https://a.example;frame-ancestors *;x/cb",)},
], ids=["scope-list", "scope-object", "redirect-csp"])
def test_a_stored_client_that_cannot_be_used_is_an_error_page_not_a_500(
        fresh_server: Server, fields: dict[str, Any]) -> None:
    client_id = _poisoned_client(fresh_server, **fields)
    fresh_server.start()
    redirect = fields.get("redirect_uris", (REDIRECT,))[0]
    _, challenge = pkce()
    with browser(fresh_server) as c:
        assert signup(c, unique("po")).status_code == 303
        r = c.get(auth_query(client_id, challenge, redirect))
    assert r.status_code == 400, r.text[-500:]
    assert "This app cannot be used" in r.text and "location" not in r.headers


# --- finding 4: nested JSON to the grants API -------------------------------------------------


@pytest.mark.parametrize("raw", [
    NESTED,
    b'{"grant": "https://x.example/g", "n": 1e999}',
    b'{"grant": NaN}',
    b"\xff",
], ids=["nested", "1e999", "NaN", "not-utf8"])
def test_grants_api_refuses_bad_json_with_a_problem(srv: Server, owner: DPoPClient,
                                                   raw: bytes) -> None:
    url = srv.base + ".api/grants/revoke?pod=owner"
    r = owner.request("POST", url, content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 400


# --- finding 5: redirect URI hosts, and the consent page's CSP --------------------------------


@pytest.fixture
def serve_document() -> Iterator[Callable[[Callable[[str], bytes]], str]]:
    """Serve a Client ID Document on loopback: the factory takes a function from the
    document's URL to its body and returns the URL."""
    servers: list[HTTPServer] = []

    def start(make: Callable[[str], bytes]) -> str:
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
        holder["doc"] = make(url)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return url

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def _document(url: str, **fields: Any) -> bytes:
    return json.dumps({"client_id": url, "client_name": "Doc app",
                       "redirect_uris": [REDIRECT], **fields}).encode()


@pytest.mark.parametrize("make", [
    lambda url: _document(url, redirect_uris=[REDIRECT, "https://a.example;frame-ancestors *;x/"]),
    lambda url: _document(url, redirect_uris=["https://a;b.example/cb"]),
    lambda url: _document(url, scope=["openid"]),
    lambda url: _document(url, client_name={"en": "x"}),
    lambda url: _document(url)[:-1] + b', "x": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    lambda url: _document(url)[:-1] + b', "x": 1e999}',
], ids=["redirect-csp", "redirect-semicolon", "scope-list", "name-object", "nested", "1e999"])
def test_a_client_id_document_that_cannot_be_used_is_an_error_page(
        server: Server, serve_document: Callable, make: Callable[[str], bytes]) -> None:
    url = serve_document(make)
    _, challenge = pkce()
    bad = "https://a.example;frame-ancestors *;x/"
    redirect = bad if b"frame-ancestors" in make(url) else REDIRECT
    with browser(server) as c:
        r = c.get(auth_query(url, challenge, redirect))
    assert r.status_code == 400, r.text[-500:]
    assert "This app cannot be used" in r.text and "location" not in r.headers


def test_consent_page_csp_names_the_apps_origin_exactly(server: Server) -> None:
    app = register(server, redirect_uris=[REDIRECT, "https://App.example:443/back?x=1"])
    _, challenge = pkce()
    expected = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
                "form-action 'self' {}; frame-ancestors 'none'; base-uri 'none'")
    with browser(server) as c:
        assert signup(c, unique("csp")).status_code == 303
        for redirect, origin in ((REDIRECT, "http://127.0.0.1:9"),
                                 ("https://App.example:443/back?x=1", "https://app.example")):
            r = c.get(auth_query(app["client_id"], challenge, redirect))
            assert r.status_code == 200, r.text
            assert r.headers["content-security-policy"] == expected.format(origin)


def test_consent_form_with_many_needs_is_read(server: Server) -> None:
    """The consent form carries two fields per access need (up to 20 needs): the form
    reader must take them all."""
    profile = "http://xmlns.com/foaf/0.1/PersonalProfileDocument"
    needs = [{"id": f"n{i}", "class": profile, "modes": ["read"],
              "purpose": "https://w3id.org/dpv#ServiceProvision",
              "description": "Show your name on your page.", "duration": "P30D"}
             for i in range(15)]
    app = register(server, access_needs=needs)
    _, challenge = pkce()
    with browser(server) as c:
        assert signup(c, unique("many")).status_code == 303
        page = c.get(auth_query(app["client_id"], challenge))
        assert page.status_code == 200, page.text
        fields = form_fields(page.text, "/.oidc/auth")
        assert len(fields) > 20
        r = c.post("/.oidc/auth", content=urlencode({**fields, "decision": "allow"}),
                   headers={"Content-Type": FORM})
    assert r.status_code == 303, r.text[-500:]
    assert r.headers["location"].startswith(REDIRECT + "?code=")
