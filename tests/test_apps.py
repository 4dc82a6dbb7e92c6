"""The apps API end to end: access needs, partial consent recorded as grants, enforcement
(WAC ∩ grants for an app, grants for an app acting as itself), revocation with a signed
webhook, expiry, owner-only grants, bulk reads, and a consent step that cannot be skipped."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pyoxigraph as ox
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import Server, new_server
from tests.dpop import DPoPClient, DPoPKey, dpop_headers, operator_token
from tests.forms import form_fields
from tests.test_accounts import browser, login
from tests.test_oidc_code_flow import REDIRECT, auth_query, pkce, token

PASSWORD = "a long enough password"
CP = "https://commonpod.org/ns#"
TTL = {"Content-Type": "text/turtle"}
CONTRIBUTION = """@prefix cp: <https://commonpod.org/ns#> .
@prefix vf: <https://w3id.org/valueflows/ont/vf#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<#it> a cp:Contribution ; vf:action vf:work ;
    vf:provider <{webid}> ; vf:inScopeOf <https://riverside.example/#community> ;
    vf:resourceClassifiedAs cp:{kind} ; vf:hasPointInTime "2025-05-0{n}T10:00:00Z"^^xsd:dateTime ;
    schema:name "Contribution {n}" .
"""


@dataclass
class Site:
    """A loopback web site: serves documents, records what is POSTed to it."""

    base: str = ""
    docs: dict[str, bytes] = field(default_factory=dict)
    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    found = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found.gets.append(self.path)
            body = found.docs.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body or b"")

        def do_POST(self) -> None:
            size = int(self.headers.get("content-length", "0"))
            found.posts.append((self.path, dict(self.headers), self.rfile.read(size)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    found.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield found
    httpd.shutdown()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = new_server(tmp_path_factory.mktemp("apps"))
    server.start()
    yield server
    server.stop()


def client_document(url: str, needs: list[dict[str, Any]] | None, **extra: Any) -> bytes:
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/solid/oidc-context.jsonld"],
        "client_id": url, "client_name": "Riverside board", "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid webid offline_access", **extra}
    if needs is not None:
        doc["access_needs"] = needs
    return json.dumps(doc).encode()


NEEDS = [
    {"id": "contributions", "class": "cp:Contribution", "modes": ["read"],
     "purpose": "dpv:ServiceProvision", "duration": "P90D",
     "description": "Show your contributions on the community board."},
    {"id": "rewards", "class": "cp:RewardStatement", "modes": ["append"],
     "purpose": "https://w3id.org/dpv#ServiceProvision", "duration": "P30D",
     "description": "Give you the badges the community awards you."},
]


@dataclass
class Member:
    """An account with its own credentials (the person's own scripts)."""

    name: str
    webid: str
    pod: str
    own: DPoPClient


def member(srv: Server, name: str, contributions: int = 0) -> Member:
    made = srv.create_account(name)
    m = Member(name, made["webid"], made["pod"], DPoPClient(srv.base, made))
    for n in range(1, contributions + 1):
        body = CONTRIBUTION.format(webid=m.webid, kind="CareWork", n=n).encode()
        r = m.own.request("PUT", f"{m.pod}contributions/c{n}", content=body, headers=TTL)
        assert r.status_code == 201, r.text
    return m


@dataclass
class AppSession:
    """An app's DPoP-bound token for a user."""

    key: DPoPKey
    access_token: str

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}),
                   **dpop_headers(self.key, self.access_token, method, url)}
        return httpx.request(method, url, headers=headers, timeout=20, **kwargs)


def consent_form(c: httpx.Client, srv: Server, who: Member, client_id: str,
                 challenge: str) -> httpx.Response:
    query = auth_query(client_id, challenge)
    r = c.get(query)
    if r.status_code == 303:
        assert login(c, who.name, PASSWORD, return_to=query).status_code == 303
        r = c.get(query)
    assert r.status_code == 200, r.text
    return r


def sign_in_with_app(srv: Server, who: Member, client_id: str, *, untick: tuple[str, ...] = (),
                     days: dict[str, int] | None = None) -> AppSession:
    """The owner signs in through the app and consents on the page, as a browser would."""
    verifier, challenge = pkce()
    with browser(srv) as c:
        page = consent_form(c, srv, who, client_id, challenge)
        fields = form_fields(page.text, "/.oidc/auth")
        for need in untick:
            fields.pop(f"need-{need}")
        for need, n in (days or {}).items():
            fields[f"days-{need}"] = str(n)
        r = c.post("/.oidc/auth", data={**fields, "decision": "allow"})
        assert r.status_code == 303, r.text
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
    key = DPoPKey()
    got = token(srv, key, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                client_id=client_id, code_verifier=verifier)
    assert got.status_code == 200, got.text
    return AppSession(key, got.json()["access_token"])


def grants_of(who: Member, srv: Server) -> list[dict[str, Any]]:
    url = f"{srv.base}.api/grants?pod={who.name}"
    r = who.own.request("GET", url)
    assert r.status_code == 200, r.text
    return r.json()["grants"]


@pytest.fixture(scope="module")
def board(site: Site) -> str:
    """The community board app's Client ID Document URL."""
    url = site.base + "/board/app.json"
    site.docs["/board/app.json"] = client_document(
        url, NEEDS, grant_webhook=site.base + "/hooks/grants")
    return url


def test_partial_consent_grants_only_what_was_accepted(srv: Server, board: str) -> None:
    amara = member(srv, "amara", contributions=2)
    before = time.time()
    app = sign_in_with_app(srv, amara, board, untick=("rewards",), days={"contributions": 7})
    assert app.request("GET", amara.pod + "contributions/").status_code == 200
    assert app.request("GET", amara.pod + "contributions/c1").status_code == 200
    # read only: no writing the contributions, no rewards (unticked), nothing else in the pod
    assert app.request("PUT", amara.pod + "contributions/c1", content=b"<#a> <#b> <#c>.",
                       headers=TTL).status_code == 403
    assert app.request("POST", amara.pod + "rewards/", content=b"<#a> <#b> <#c>.",
                       headers=TTL).status_code == 403
    for path in ("settings/prefs.ttl", "grants/", "", "contributions/.acl"):
        assert app.request("GET", amara.pod + path).status_code == 403, path
    [grant] = grants_of(amara, srv)
    assert grant["status"] == "active" and grant["title"] == "Riverside board"
    [perm] = grant["permissions"]
    assert perm["target"] == amara.pod + "contributions/" and perm["modes"] == ["read"]
    assert perm["purpose"] == "https://w3id.org/dpv#ServiceProvision"
    assert perm["class"] == CP + "Contribution"
    until = time.mktime(time.strptime(perm["until"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert before + 7 * 86400 - 5 <= until <= time.time() + 7 * 86400 + 5


def test_a_duration_longer_than_asked_is_refused(srv: Server, board: str) -> None:
    ann = member(srv, "ann")
    _, challenge = pkce()
    with browser(srv) as c:
        page = consent_form(c, srv, ann, board, challenge)
        fields = {**form_fields(page.text, "/.oidc/auth"), "days-contributions": "365"}
        r = c.post("/.oidc/auth", data={**fields, "decision": "allow"})
        assert r.status_code == 400 and "at most what the app asked for" in r.text
    assert grants_of(ann, srv) == []


def test_an_app_never_exceeds_wac(srv: Server, site: Site) -> None:
    """Bob lets a plain Solid app act as him in full; it still cannot read Amara's data,
    because WAC does not let Bob."""
    amara, bob = member(srv, "amara2", contributions=1), member(srv, "bob")
    url = site.base + "/plain/app.json"
    site.docs["/plain/app.json"] = client_document(url, None)
    app = sign_in_with_app(srv, bob, url)
    assert app.request("GET", bob.pod + "settings/prefs.ttl").status_code == 200
    assert app.request("GET", amara.pod + "contributions/c1").status_code == 403
    assert app.request("GET", amara.pod + "profile/card").status_code == 200  # public
    assert app.request("GET", bob.pod + "grants/").status_code == 403  # never, even in full


def test_revocation_stops_access_at_once_and_tells_the_app(srv: Server, board: str,
                                                           site: Site) -> None:
    cara = member(srv, "cara", contributions=1)
    app = sign_in_with_app(srv, cara, board)
    assert app.request("GET", cara.pod + "contributions/c1").status_code == 200
    [grant] = grants_of(cara, srv)
    with browser(srv) as c:
        assert login(c, "cara", PASSWORD).status_code == 303
        assert 'href="/.account/grants"' in c.get("/.account/").text
        page = c.get("/.account/grants")
        assert page.status_code == 200 and "Riverside board" in page.text
        fields = form_fields(page.text, "/.account/grants/revoke")
        assert fields["grant"] == grant["grant"]
        assert c.post("/.account/grants/revoke", data=fields).status_code == 303
    assert app.request("GET", cara.pod + "contributions/c1").status_code == 403
    assert grants_of(cara, srv)[0]["status"] == "withdrawn"
    deadline = time.monotonic() + 10
    while not any(p[0] == "/hooks/grants" for p in site.posts) and time.monotonic() < deadline:
        time.sleep(0.05)
    [(_, headers, body)] = [p for p in site.posts if p[0] == "/hooks/grants"]
    assert headers["Content-Type"] == "application/jwt"
    jwks = KeySet.import_key_set(httpx.get(srv.base + ".oidc/jwks").json())
    event = jwt.decode(body.decode(), jwks)
    assert event.header["typ"] == "grant-event+jwt"
    claims = event.claims
    assert claims["event"] == "grant.revoked" and claims["grant"] == grant["grant"]
    assert claims["aud"] == board and claims["owner"] == cara.webid
    assert claims["iss"] == srv.base


def test_an_expired_grant_gives_403_at_once(srv: Server, board: str) -> None:
    dan = member(srv, "dan", contributions=1)
    app = sign_in_with_app(srv, dan, board)
    assert app.request("GET", dan.pod + "contributions/c1").status_code == 200
    [grant] = grants_of(dan, srv)
    doc = dan.own.request("GET", grant["document"], headers={"Accept": "text/turtle"})
    past = re.sub(r'odrl:rightOperand "[^"]+"\^\^xsd:dateTime',
                  'odrl:rightOperand "2025-01-01T00:00:00Z"^^xsd:dateTime', doc.text)
    assert past != doc.text
    r = dan.own.request("PUT", grant["document"], content=past.encode(), headers=TTL)
    assert r.status_code == 204, r.text
    assert app.request("GET", dan.pod + "contributions/c1").status_code == 403
    assert grants_of(dan, srv)[0]["status"] == "expired"


def test_grants_are_for_the_owner_only(srv: Server, board: str) -> None:
    eve, fay = member(srv, "eve", contributions=1), member(srv, "fay")
    app = sign_in_with_app(srv, eve, board)
    [grant] = grants_of(eve, srv)
    document = grant["document"]
    assert eve.own.request("GET", document).status_code == 200
    assert httpx.get(document).status_code == 401
    assert fay.own.request("GET", document).status_code == 403
    assert app.request("GET", document).status_code == 403
    api = f"{srv.base}.api/grants?pod=eve"
    assert httpx.get(api).status_code == 401
    assert fay.own.request("GET", api).status_code == 403
    assert app.request("GET", api).status_code == 403  # an app never sees consent
    revoke = f"{srv.base}.api/grants/revoke?pod=eve"
    assert app.request("POST", revoke, json={"grant": grant["grant"]}).status_code == 403
    assert grants_of(eve, srv)[0]["status"] == "active"


def test_consent_cannot_be_skipped_or_forged(srv: Server, board: str) -> None:
    gus = member(srv, "gus")
    _, challenge = pkce()
    with browser(srv) as c:
        page = consent_form(c, srv, gus, board, challenge)
        fields = {**form_fields(page.text, "/.oidc/auth"), "decision": "allow"}
        # no session: another browser posting the same form
        with browser(srv) as stranger:
            assert stranger.post("/.oidc/auth", data=fields).status_code == 403
        # the owner's session but no CSRF token, or someone else's request id
        assert c.post("/.oidc/auth", data={**fields, "csrf": ""}).status_code == 403
        assert c.post("/.oidc/auth", data={**fields, "request": "forged"}).status_code == 400
    assert grants_of(gus, srv) == []


@pytest.mark.parametrize(("need", "words"), [
    ({**NEEDS[0], "class": "https://example.org/Secrets"}, "is not a kind of data"),
    ({**NEEDS[0], "purpose": "dpv:SellingData"}, "is not a DPV purpose"),
    ({**NEEDS[0], "modes": ["control"]}, "modes must be"),
    ({**NEEDS[0], "duration": "P5Y"}, "between one day"),
    ({**NEEDS[0], "description": ""}, "description"),
    ({**NEEDS[0], "colour": "red"}, "unknown fields"),
])
def test_malformed_needs_are_refused_at_registration(srv: Server, need: dict[str, Any],
                                                     words: str) -> None:
    meta = {"redirect_uris": [REDIRECT], "client_name": "Bad app",
            "token_endpoint_auth_method": "none", "access_needs": [need]}
    r = httpx.post(srv.base + ".oidc/reg", json=meta)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_client_metadata" and words in r.json()[
        "error_description"]


def test_malformed_needs_are_refused_at_authorization(srv: Server, site: Site) -> None:
    url = site.base + "/bad/app.json"
    site.docs["/bad/app.json"] = client_document(url, [{**NEEDS[0], "purpose": "dpv:Nope"}])
    _, challenge = pkce()
    r = httpx.get(srv.base + auth_query(url, challenge)[1:])
    assert r.status_code == 400 and "is not a DPV purpose" in r.text


def test_registered_apps_declare_needs_too(srv: Server) -> None:
    meta = {"redirect_uris": [REDIRECT], "client_name": "Registered board",
            "grant_types": ["authorization_code"], "token_endpoint_auth_method": "none",
            "scope": "openid webid", "access_needs": NEEDS[:1]}
    r = httpx.post(srv.base + ".oidc/reg", json=meta)
    assert r.status_code == 201, r.text
    hal = member(srv, "hal", contributions=1)
    app = sign_in_with_app(srv, hal, r.json()["client_id"])
    assert app.request("GET", hal.pod + "contributions/c1").status_code == 200
    assert app.request("GET", hal.pod + "settings/prefs.ttl").status_code == 403


def collect(client: DPoPClient | AppSession | None, srv: Server, pod: str,
            cls: str = "cp:Contribution") -> httpx.Response:
    url = f"{srv.base}.api/collect"
    params = {"pod": pod, "class": cls}
    if client is None:
        return httpx.get(url, params=params)
    return client.request("GET", url, params=params, headers={"Accept": "text/turtle"})


def test_an_app_acting_as_itself_reaches_only_what_members_granted(srv: Server) -> None:
    """A community app with its own WebID aggregates its members' contributions, one request
    per member, only after each member consented."""
    river = srv.create_account("riverside")
    own = DPoPClient(srv.base, river)
    url = river["pod"] + "board.json"
    doc = client_document(url, NEEDS[:1], agent_webid=river["webid"])
    assert own.request("PUT", url, content=doc,
                       headers={"Content-Type": "application/json"}).status_code == 201
    acl = ("@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
           f"<#o> a acl:Authorization; acl:agent <{river['webid']}>; acl:accessTo <board.json>;"
           " acl:mode acl:Read, acl:Write, acl:Control.\n"
           "<#p> a acl:Authorization; acl:agentClass <http://xmlns.com/foaf/0.1/Agent>;"
           " acl:accessTo <board.json>; acl:mode acl:Read.\n")
    assert own.request("PUT", url + ".acl", content=acl.encode(),
                       headers=TTL).status_code == 201
    ivy = member(srv, "ivy", contributions=3)
    member(srv, "jon", contributions=2)
    assert own.request("GET", ivy.pod + "contributions/c1").status_code == 403
    assert collect(own, srv, "ivy").status_code == 403
    sign_in_with_app(srv, ivy, url)
    assert own.request("GET", ivy.pod + "contributions/c1").status_code == 200
    assert own.request("GET", ivy.pod + "settings/prefs.ttl").status_code == 403
    r = collect(own, srv, "ivy")
    assert r.status_code == 200, r.text
    graph = set(ox.parse(r.content, ox.RdfFormat.TURTLE))
    names = {t.object.value for t in graph if t.predicate.value == "https://schema.org/name"}
    assert names == {"Contribution 1", "Contribution 2", "Contribution 3"}
    contained = {t.object.value for t in graph
                 if t.predicate.value == "http://www.w3.org/ns/ldp#contains"}
    assert contained == {f"{ivy.pod}contributions/c{n}" for n in (1, 2, 3)}
    assert collect(own, srv, "jon").status_code == 403  # jon has not consented


def test_bulk_reads_follow_the_same_rules(srv: Server, board: str) -> None:
    kim = member(srv, "kim", contributions=2)
    assert collect(None, srv, "kim").status_code == 401
    app = sign_in_with_app(srv, kim, board)
    r = collect(app, srv, "kim")
    assert r.status_code == 200 and r.text.count("Contribution ") == 2
    assert collect(app, srv, "kim", "cp:RewardStatement").status_code in (200, 403)
    # an unregistered class reads like one the app may not read: the type index stays private
    assert collect(app, srv, "kim", "https://example.org/Nothing").status_code == 403
    assert collect(kim.own, srv, "kim", "https://example.org/Nothing").status_code == 404
    assert collect(kim.own, srv, "kim").status_code == 200  # the owner, directly


def test_a_bulk_read_holds_exactly_what_a_get_by_the_same_caller_reads(srv: Server,
                                                                         board: str) -> None:
    """GET and ``/.api/collect`` share one read path: a document is in the bulk read when,
    and only when, the same caller's GET of it answers 200 (nested containers included)."""
    una = member(srv, "una", contributions=3)
    nested = CONTRIBUTION.format(webid=una.webid, kind="CareWork", n=4).encode()
    assert una.own.request("PUT", f"{una.pod}contributions/more/c4", content=nested,
                           headers=TTL).status_code == 201
    no_read = ("@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
               f"<#o> a acl:Authorization; acl:agent <{una.webid}>; acl:accessTo <c2>;"
               " acl:mode acl:Write.\n")  # nobody reads c2, the owner included
    assert una.own.request("PUT", f"{una.pod}contributions/c2.acl", content=no_read.encode(),
                           headers=TTL).status_code == 201
    app = sign_in_with_app(srv, una, board)
    documents = [f"{una.pod}contributions/{p}" for p in ("c1", "c2", "c3", "more/c4")]
    for caller in (app, una.own):
        r = collect(caller, srv, "una")
        assert r.status_code == 200, r.text
        contained = {t.object.value for t in ox.parse(r.content, ox.RdfFormat.TURTLE)
                     if t.predicate.value == "http://www.w3.org/ns/ldp#contains"}
        read = {url for url in documents if caller.request("GET", url).status_code == 200}
        assert contained == read == set(documents) - {documents[1]}


def log_of(who: Member, srv: Server, **params: str) -> list[dict[str, Any]]:
    r = who.own.request("GET", f"{srv.base}.api/log", params={"pod": who.name, **params})
    assert r.status_code == 200, r.text
    return r.json()["records"]


def test_the_access_log_records_each_access_exactly_once(srv: Server, board: str) -> None:
    lia, mo = member(srv, "lia", contributions=2), member(srv, "mo")
    app = sign_in_with_app(srv, lia, board)
    [grant] = grants_of(lia, srv)
    pod = lia.pod
    done = [("GET", pod + "contributions/c1", 200), ("GET", pod + "contributions/c2", 200),
            ("PUT", pod + "contributions/c1", 403), ("GET", pod + "settings/prefs.ttl", 403)]
    for method, url, status in done:
        body = {"content": b"<#a> <#b> <#c>.", "headers": TTL} if method == "PUT" else {}
        assert app.request(method, url, **body).status_code == status
    assert collect(app, srv, "lia").status_code == 200
    assert mo.own.request("GET", pod + "contributions/c1").status_code == 403
    assert httpx.get(pod + "profile/card").status_code == 200
    assert lia.own.request("GET", pod + "contributions/c1").status_code == 200  # not logged
    records = log_of(lia, srv, app=board)
    seen = sorted((r["method"], r["target"], r["status"]) for r in records)
    assert seen == sorted([*done, ("GET", CP + "Contribution", 200)])
    by_target = {(r["method"], r["target"]): r for r in records}
    read = by_target[("GET", pod + "contributions/c1")]
    assert read["agent"] == lia.webid and read["mode"] == "read" and read["allowed"]
    assert read["grant"] == grant["grant"]
    assert by_target[("PUT", pod + "contributions/c1")]["mode"] == "write"
    everyone = log_of(lia, srv)
    assert [r for r in everyone if r["agent"] == mo.webid and r["status"] == 403]
    assert [r for r in everyone if r["agent"] is None and r["target"] == pod + "profile/card"]
    assert len(everyone) == len(records) + 2  # the owner's own reads are not in it
    turtle = lia.own.request("GET", f"{srv.base}.api/log", params={"pod": "lia"},
                             headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    assert len(set(ox.parse(turtle.content, ox.RdfFormat.TURTLE))) > len(everyone)


def test_the_access_log_is_for_the_owner_only(srv: Server, board: str) -> None:
    nia, oz = member(srv, "nia", contributions=1), member(srv, "oz")
    app = sign_in_with_app(srv, nia, board)
    app.request("GET", nia.pod + "contributions/c1")
    url = f"{srv.base}.api/log"
    assert httpx.get(url, params={"pod": "nia"}).status_code == 401
    assert oz.own.request("GET", url, params={"pod": "nia"}).status_code == 403
    assert app.request("GET", url, params={"pod": "nia"}).status_code == 403
    with browser(srv) as c:
        assert login(c, "nia", PASSWORD).status_code == 303
        page = c.get("/.account/log", params={"app": board})
        assert page.status_code == 200 and "contributions/c1" in page.text
    with browser(srv) as c:
        assert login(c, "oz", PASSWORD).status_code == 303
        assert "contributions/c1" not in c.get("/.account/log").text


def test_accepting_none_grants_nothing(srv: Server, board: str) -> None:
    pat = member(srv, "pat", contributions=1)
    app = sign_in_with_app(srv, pat, board, untick=("contributions", "rewards"))
    assert app.request("GET", pat.pod + "contributions/c1").status_code == 403
    assert grants_of(pat, srv) == []


def test_a_new_decision_replaces_the_earlier_one(srv: Server, board: str) -> None:
    """Signing in again asks again; the new answer replaces the old grant, so revoking the
    current grant always ends what the app holds."""
    quinn = member(srv, "quinn", contributions=1)
    first = sign_in_with_app(srv, quinn, board)
    second = sign_in_with_app(srv, quinn, board, untick=("contributions",))
    newest, older = grants_of(quinn, srv)  # newest first
    assert newest["status"] == "active" and older["status"] == "withdrawn"
    assert [p["class"] for p in newest["permissions"]] == [CP + "RewardStatement"]
    for app in (first, second):
        assert app.request("GET", quinn.pod + "contributions/c1").status_code == 403
    doc = quinn.own.request("GET", older["document"], headers={"Accept": "text/turtle"}).text
    assert newest["grant"] in doc  # dcterms:isReplacedBy


def test_what_is_granted_is_what_the_owner_was_shown(srv: Server, site: Site) -> None:
    """An app that changes its Client ID Document between the consent page and the answer
    gets what the owner saw, not what it asks for now."""
    rae = member(srv, "rae", contributions=1)
    url = site.base + "/shifty/app.json"
    site.docs["/shifty/app.json"] = client_document(url, NEEDS[:1])
    _, challenge = pkce()
    with browser(srv) as c:
        page = consent_form(c, srv, rae, url, challenge)
        fields = form_fields(page.text, "/.oidc/auth")
        sneaky = {**NEEDS[0], "modes": ["read", "write"], "duration": "P1Y"}
        site.docs["/shifty/app.json"] = client_document(url, [sneaky])
        r = c.post("/.oidc/auth", data={**fields, "decision": "allow"})
        assert r.status_code == 303
    [grant] = grants_of(rae, srv)
    [perm] = grant["permissions"]
    assert perm["modes"] == ["read"]



# --- what the security review found, kept fixed ---------------------------------------------

@pytest.mark.parametrize("field", ["agent_webid", "client_id"])
def test_iris_that_would_break_the_grant_document_are_refused(srv: Server, site: Site,
                                                              field: str) -> None:
    """A Client ID Document cannot smuggle triples into the owner's grant."""
    sam = member(srv, "sam" + field[:3], contributions=1)
    evil = ('http://127.0.0.1:9/x#i> ; <http://www.w3.org/ns/odrl/2/permission> [] ; '
            '<http://www.w3.org/ns/odrl/2/assignee> <http://127.0.0.1:9/y')
    url = site.base + f"/inject-{field}/app.json"
    if field == "client_id":
        url += "?x=>"
        doc = client_document(url, NEEDS[:1])
    else:
        doc = client_document(url, NEEDS[:1], agent_webid=evil)
    site.docs[urlsplit(url).path + ("?x=>" if field == "client_id" else "")] = doc
    _, challenge = pkce()
    with browser(srv) as c:
        assert login(c, sam.name, PASSWORD).status_code == 303
        r = c.get(auth_query(url, challenge))
        assert r.status_code == 400
    assert grants_of(sam, srv) == []


def test_apps_cannot_change_the_owners_profile_or_settings(srv: Server, site: Site) -> None:
    """Even an app allowed to act as the owner cannot rewrite who the owner is (their
    profile's issuer) or where their data lives (type indexes)."""
    tom = member(srv, "tom")
    url = site.base + "/full/app.json"
    site.docs["/full/app.json"] = client_document(url, None)
    app = sign_in_with_app(srv, tom, url)
    patch = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n_:p a solid:InsertDeletePatch;"
             f" solid:inserts {{ <{tom.webid}> solid:oidcIssuer <https://evil.example/> }}.\n")
    for doc in ("profile/card", "settings/prefs.ttl", "settings/privateTypeIndex.ttl"):
        r = app.request("PATCH", tom.pod + doc, content=patch.encode(),
                        headers={"Content-Type": "text/n3"})
        assert r.status_code == 403, doc
        assert app.request("GET", tom.pod + doc).status_code == 200
    meta = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
            "access_needs": [{**NEEDS[0], "class": "foaf:PersonalProfileDocument",
                              "modes": ["read", "write"]}]}
    r = httpx.post(srv.base + ".oidc/reg", json=meta)
    assert r.status_code == 400 and "only read the owner's profile" in r.text


def test_another_issuer_cannot_speak_for_a_webid_of_this_server(srv: Server,
                                                                tmp_path_factory) -> None:
    """Naming another issuer in a local profile does not let that issuer's tokens in."""
    uma = member(srv, "uma", contributions=1)
    other = new_server(tmp_path_factory.mktemp("other-issuer"))
    other.start()
    try:
        patch = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
                 "_:p a solid:InsertDeletePatch;"
                 f" solid:inserts {{ <{uma.webid}> solid:oidcIssuer <{other.base}> }}.\n")
        r = uma.own.request("PATCH", uma.pod + "profile/card", content=patch.encode(),
                            headers={"Content-Type": "text/n3"})
        assert r.status_code in (200, 204), r.text
        token, key = operator_token(other.data_dir, other.base, webid=uma.webid)
        url = uma.pod + "contributions/c1"
        r = httpx.get(url, headers=dpop_headers(key, token, "GET", url))
        assert r.status_code == 401 and "this server's issuer" in r.json()["detail"]
    finally:
        other.stop()


def test_an_app_grant_is_not_a_grant_to_a_webid_of_the_same_name(srv: Server,
                                                                 board: str) -> None:
    """The app's role and an agent's role never stand in for each other: a WebID spelled
    like the app's Client ID Document URL gets nothing from the app's grant."""
    vic = member(srv, "vic", contributions=1)
    sign_in_with_app(srv, vic, board)
    token, key = operator_token(srv.data_dir, srv.base, webid=board)
    url = vic.pod + "contributions/c1"
    assert httpx.get(url, headers=dpop_headers(key, token, "GET", url)).status_code == 403


def test_client_id_documents_are_fetched_through_the_guard(srv: Server, tmp_path_factory,
                                                           site: Site) -> None:
    """With private fetches off (the default), a Client ID Document on a private address is
    never requested (the test server allows them, and does fetch it)."""
    _, challenge = pkce()
    allowed = site.base + "/internal/allowed"
    httpx.get(srv.base + auth_query(allowed, challenge)[1:])
    assert "/internal/allowed" in site.gets
    guarded = new_server(tmp_path_factory.mktemp("guarded"), allow_private_fetch=False)
    guarded.start()
    try:
        r = httpx.get(guarded.base + auth_query(site.base + "/internal/admin", challenge)[1:])
        assert r.status_code == 400
        assert "/internal/admin" not in site.gets
    finally:
        guarded.stop()


def test_anonymous_refusals_are_not_logged_and_bulk_reads_need_a_caller(srv: Server) -> None:
    wes = member(srv, "wes", contributions=1)
    for n in range(5):
        assert httpx.get(wes.pod + f"contributions/{'x' * 300}{n}").status_code in (401, 404)
    assert collect(None, srv, "wes").status_code == 401
    assert collect(None, srv, "wes", "https://example.org/Nothing").status_code == 401
    assert log_of(wes, srv) == []
