"""Tokens from another Solid-OIDC issuer (Solid-OIDC §8) and acl:agentGroup, across two live
servers on loopback: a user of server A reads resources on server B."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Server, free_port, new_server
from tests.dpop import DPoPClient, DPoPKey

TTL = {"Content-Type": "text/turtle"}
ACL = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    a = new_server(tmp_path_factory.mktemp("issuer-a"))
    b = new_server(tmp_path_factory.mktemp("resource-b"))
    a.create_pod("apub", "--public-write")
    for srv in (a, b):
        srv.start()
    yield a, b
    for srv in (a, b):
        srv.stop()


@pytest.fixture(scope="module")
def ann(servers) -> dict[str, str]:
    """A user of server A."""
    return servers[0].create_account("ann")


@pytest.fixture(scope="module")
def bea(servers) -> dict[str, str]:
    """The owner of a pod on server B."""
    return servers[1].create_account("bea")


def _put(owner: DPoPClient, url: str, body: str) -> None:
    r = owner.request("PUT", url, content=body.encode(), headers=TTL)
    assert r.status_code in (201, 204), r.text


def test_a_user_of_another_server_reads_what_the_acl_grants(servers, ann, bea) -> None:
    owner, guest = DPoPClient(servers[1].base, bea), DPoPClient(servers[0].base, ann)
    doc, acl = bea["pod"] + "shared/doc.ttl", bea["pod"] + "shared/doc.ttl.acl"
    _put(owner, doc, "<#a> <#b> <#c>.")
    assert guest.request("GET", doc).status_code == 403  # authenticated, but not granted
    _put(owner, acl, ACL + f"<#o> a acl:Authorization; acl:agent <{bea['webid']}>;"
                           f" acl:accessTo <doc.ttl>; acl:mode acl:Control, acl:Write, acl:Read.\n"
                           f"<#g> a acl:Authorization; acl:agent <{ann['webid']}>;"
                           f" acl:accessTo <doc.ttl>; acl:mode acl:Read.\n")
    r = guest.request("GET", doc)
    assert r.status_code == 200, r.text
    assert 'user="read"' in r.headers["wac-allow"]
    assert guest.request("PUT", doc, content=b"<#x> <#y> <#z>.", headers=TTL).status_code == 403
    _put(owner, acl, ACL + f"<#o> a acl:Authorization; acl:agent <{bea['webid']}>;"
                           f" acl:accessTo <doc.ttl>; acl:mode acl:Control, acl:Write, acl:Read.\n")
    r = guest.request("GET", doc)
    assert r.status_code == 403 and ann["webid"] in r.json()["detail"]


def test_an_issuer_the_webid_profile_does_not_name_is_refused(servers) -> None:
    a, b = servers
    cid = a.create_account("cid")
    own = DPoPClient(a.base, cid)
    profile = cid["pod"] + "profile/card"
    _put(own, profile, "<#me> <http://www.w3.org/ns/solid/terms#oidcIssuer>"
                       " <https://issuer.example/>; <http://xmlns.com/foaf/0.1/name> \"Cid\".")
    r = own.request("GET", b.base + "bea/")
    assert r.status_code == 401, r.text
    assert f"issuer {a.base} is not named in the WebID profile of {cid['webid']}" in \
        r.json()["detail"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


@pytest.mark.parametrize("where", ["local", "remote"])
def test_a_group_grant_lets_a_member_in(servers, ann, bea, where: str) -> None:
    a, _ = servers
    owner, guest = DPoPClient(servers[1].base, bea), DPoPClient(a.base, ann)
    members = f"<#g> a <http://www.w3.org/2006/vcard/ns#Group>;" \
              f" <http://www.w3.org/2006/vcard/ns#hasMember> <{ann['webid']}>.\n"
    if where == "local":
        group_doc = bea["pod"] + "groups/friends.ttl"
        _put(owner, group_doc, members)
    else:  # a publicly writable (and readable) pod on the issuer's server
        group_doc = a.base + "apub/friends.ttl"
        assert httpx.put(group_doc, content=members.encode(), headers=TTL).status_code in (201,
                                                                                           204)
    doc = bea["pod"] + f"club-{where}/doc.ttl"
    _put(owner, doc, "<#a> <#b> <#c>.")
    assert guest.request("GET", doc).status_code == 403
    _put(owner, doc + ".acl",
         ACL + f"<#o> a acl:Authorization; acl:agent <{bea['webid']}>; acl:accessTo <doc.ttl>;"
               f" acl:mode acl:Control, acl:Write, acl:Read.\n"
               f"<#g> a acl:Authorization; acl:agentGroup <{group_doc}#g>;"
               f" acl:accessTo <doc.ttl>; acl:mode acl:Read.\n"
               f"<#n> a acl:Authorization; acl:agentGroup <{group_doc}#nobody>;"
               f" acl:accessTo <doc.ttl>; acl:mode acl:Write.\n")
    r = guest.request("GET", doc)
    assert r.status_code == 200, r.text
    assert 'user="read"' in r.headers["wac-allow"]  # not in #nobody: no Write
    if where == "local":  # a local group change applies on the next request
        _put(owner, group_doc, "<#g> a <http://www.w3.org/2006/vcard/ns#Group>.")
        assert guest.request("GET", doc).status_code == 403


def test_origin_reaches_the_decision_for_authenticated_agents(servers, ann, bea) -> None:
    owner, guest = DPoPClient(servers[1].base, bea), DPoPClient(servers[0].base, ann)
    doc = bea["pod"] + "apps-only/doc.ttl"
    _put(owner, doc, "<#a> <#b> <#c>.")
    _put(owner, doc + ".acl",
         ACL + f"<#o> a acl:Authorization; acl:agent <{bea['webid']}>; acl:accessTo <doc.ttl>;"
               f" acl:mode acl:Control, acl:Write, acl:Read.\n"
               f"<#g> a acl:Authorization; acl:agent <{ann['webid']}>;"
               f" acl:origin <https://app.example>; acl:accessTo <doc.ttl>; acl:mode acl:Read.\n")
    assert guest.request("GET", doc, headers={"Origin": "https://app.example"}).status_code == 200
    assert guest.request("GET", doc, headers={"Origin": "https://evil.example"}).status_code == 403
    assert guest.request("GET", doc).status_code == 403


def test_no_fetching_from_private_addresses_unless_allowed(servers, ann, tmp_path) -> None:
    closed = new_server(tmp_path, allow_private_fetch=False)
    closed.create_pod("open", "--public-write")
    closed.start()
    try:
        guest = DPoPClient(servers[0].base, ann)
        r = guest.request("GET", closed.base + "open/")
        assert r.status_code == 401, r.text
        assert r.json()["detail"] == "the WebID profile could not be fetched"
        _reveals_nothing(r)
        assert httpx.get(closed.base + "open/").status_code == 200  # anonymous still fine
    finally:
        closed.stop()


_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}|\[?[0-9a-f]*:[0-9a-f:]*:[0-9a-f]*\]?|localhost",
                      re.IGNORECASE)


def _reveals_nothing(r: httpx.Response) -> None:
    """A 401 for a failed fetch names no address, DNS answer or exception (#9 §6)."""
    for text in (r.json()["detail"], r.headers["www-authenticate"]):
        assert not _ADDRESS.search(text.replace("WWW-Authenticate", "")), text
        for leak in ("Errno", "Error", "refused", "resolve", "non-public", "reset", "timed",
                     "allow_private_fetch", "http"):
            assert leak not in text, text


def test_failed_fetches_give_generic_401_details(servers, bea) -> None:
    """Tokens whose issuer's discovery document, keys or WebID profile cannot be fetched
    (nothing listening; a name that does not resolve) get 401s saying only which document.
    The WebIDs live on A and the requests go to B (A refuses another issuer's token for a
    WebID of its own before looking anything up)."""
    a, _ = servers
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    issuer = a.base + "apub/issuer"  # its discovery document names a JWKS nobody serves
    config = json.dumps({"issuer": issuer, "jwks_uri": dead + "/jwks"}).encode()
    r = httpx.put(issuer + "/.well-known/openid-configuration", content=config,
                  headers={"Content-Type": "application/json"})
    assert r.status_code in (201, 204), r.text
    cases = [(dead + "/", "the issuer's OpenID configuration could not be fetched"),
             (issuer, "the issuer's keys could not be fetched")]
    for n, (iss, detail) in enumerate(cases):
        profile = a.base + f"apub/profile-{n}.ttl"
        r = httpx.put(profile, content=f"<#me> <http://www.w3.org/ns/solid/terms#oidcIssuer>"
                      f" <{iss}>.".encode(), headers=TTL)
        assert r.status_code in (201, 204), r.text
        r = _forged_request(bea["pod"], iss, profile + "#me")
        assert r.status_code == 401 and r.json()["detail"] == detail, r.text
        _reveals_nothing(r)
    r = _forged_request(bea["pod"], dead + "/", "http://no-such-host.invalid/card#me")
    assert r.status_code == 401, r.text
    assert r.json()["detail"] == "the WebID profile could not be fetched"
    _reveals_nothing(r)


def _forged_request(url: str, issuer: str, webid: str) -> httpx.Response:
    """GET ``url`` with a token of ``issuer`` for ``webid``, signed by a key of our own and
    bound to a DPoP key: good enough to make the server look the issuer up."""
    from joserfc import jwt
    from joserfc.jwk import ECKey

    dpop, signer = DPoPKey(), ECKey.generate_key("P-256")
    now = int(time.time())
    token = jwt.encode({"alg": "ES256", "typ": "at+jwt", "kid": "k1"},
                       {"iss": issuer, "webid": webid, "sub": "x", "aud": ["solid"],
                        "client_id": "https://app.example/id", "iat": now, "exp": now + 300,
                        "jti": uuid.uuid4().hex, "cnf": {"jkt": dpop.key.thumbprint()}},
                       signer)
    return httpx.get(url, headers={"Authorization": f"DPoP {token}",
                                   "DPoP": dpop.proof("GET", url, token)}, timeout=30)


# --- the fetcher on its own -----------------------------------------------------------------

@pytest.fixture(scope="module")
def origin() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server: /doc (Turtle), /big (600 kB), /html, /hop/N (redirects)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            if self.path.startswith("/hop/"):
                left = int(self.path.rsplit("/", 1)[1])
                self.send_response(302)
                self.send_header("Location", f"/hop/{left - 1}" if left > 1 else "/doc")
                self.end_headers()
                return
            if self.path == "/elsewhere":
                self.send_response(307)
                self.send_header("Location", f"http://127.0.0.2:{self.server.server_port}/doc")
                self.end_headers()
                return
            body, kind = {"/doc": (b"<#a> <#b> <#c>.", "text/turtle; charset=utf-8"),
                          "/big": (b"#" * 600_000, "text/turtle"),
                          "/html": (b"<p>hi</p>", "text/html")}.get(self.path, (b"", "x/y"))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "max-age=5")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", hits
    httpd.shutdown()


def _fetch(url: str, allow_private: bool = True, **options):
    import asyncio

    from auth.fetch import Fetcher

    async def go():
        fetcher = Fetcher(allow_private=allow_private)
        return await fetcher.get(url, ("text/turtle",), **options), fetcher

    return asyncio.run(go())


def test_fetcher_address_guard() -> None:
    from ipaddress import ip_address

    from auth.fetch import FetchError, is_public

    for private in ("127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "0.0.0.0",  # noqa: S104
                    "224.0.0.1", "100.64.0.1", "::1", "fe80::1", "::ffff:127.0.0.1", "fc00::1"):
        assert not is_public(ip_address(private)), private
    for public in ("8.8.8.8", "2606:4700:4700::1111"):
        assert is_public(ip_address(public)), public
    for url in ("http://127.0.0.1:9/x", "http://localhost:9/x", "http://[::1]:9/x"):
        with pytest.raises(FetchError, match="non-public address"):
            _fetch(url, allow_private=False)
    for url in ("ftp://example.org/x", "http://user:pw@example.org/x", "file:///etc/passwd"):
        with pytest.raises(FetchError, match="not an http"):
            _fetch(url, allow_private=False)


def test_fetcher_limits(origin, monkeypatch) -> None:
    from ipaddress import IPv4Address

    from auth import fetch
    from auth.fetch import FetchError

    base, _ = origin
    got, _ = _fetch(base + "/hop/3")  # three redirects are followed
    assert got.body == b"<#a> <#b> <#c>." and got.media_type == "text/turtle"
    assert got.url == base + "/doc"
    with pytest.raises(FetchError, match="more than 3 redirects"):
        _fetch(base + "/hop/4")
    with pytest.raises(FetchError, match="larger than"):
        _fetch(base + "/big")
    with pytest.raises(FetchError, match="is text/html, not text/turtle"):
        _fetch(base + "/html")
    with pytest.raises(FetchError, match="answered 404"):
        _fetch(base + "/nothing")
    # a redirect is checked again: only 127.0.0.1 counts as public here, 127.0.0.2 does not
    monkeypatch.setattr(fetch, "is_public", lambda ip: ip == IPv4Address("127.0.0.1"))
    with pytest.raises(FetchError, match=r"non-public address 127\.0\.0\.2"):
        _fetch(base + "/elsewhere", allow_private=False)


def test_fetcher_cache(origin) -> None:
    import asyncio

    from auth.fetch import MIN_TTL, Fetcher, _ttl

    base, hits = origin

    async def twice() -> tuple[object, object, object]:
        fetcher = Fetcher(allow_private=True)
        first = await fetcher.get(base + "/doc", ("text/turtle",), cache_control=True)
        second = await fetcher.get(base + "/doc", ("text/turtle",), cache_control=True)
        third = await fetcher.get(base + "/doc", ("text/turtle",), max_age=0)
        return first, second, third

    before = hits.count("/doc")
    first, second, third = asyncio.run(twice())
    assert first is second and third is not first
    assert hits.count("/doc") == before + 2
    assert first.expires - first.fetched_at == MIN_TTL  # max-age=5 raised to the floor
    assert _ttl("public, max-age=600") == 600 and _ttl("max-age=999999") == 3600
    assert _ttl("no-store") == MIN_TTL and _ttl(None) == 300


def test_allow_private_fetch_setting(tmp_path) -> None:
    from pod.errors import ConfigError
    from pod.settings import load

    env = {"COMMONPOD_DATA_DIR": str(tmp_path)}
    assert load({}, env).allow_private_fetch is False
    for value, expected in [("1", True), ("true", True), ("False", False), ("0", False)]:
        assert load({}, {**env, "COMMONPOD_ALLOW_PRIVATE_FETCH": value}).allow_private_fetch \
            is expected
    (tmp_path / "settings.toml").write_text("allow_private_fetch = true\n")
    assert load({}, env).allow_private_fetch is True
    with pytest.raises(ConfigError, match="true or false"):
        load({}, {**env, "COMMONPOD_ALLOW_PRIVATE_FETCH": "maybe"})
