"""LDP methods end to end (Solid Protocol 0.11 §4-§5, LDP Basic Containers): the headers every
response carries, HEAD and OPTIONS, PUT/POST/DELETE semantics of containers, conditional
requests and CORS. Each test works in its own fresh container of the public pod."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime
from http import client

import httpx
import pyoxigraph as ox
import pytest

LDP = "http://www.w3.org/ns/ldp#"
PIM_STORAGE = "http://www.w3.org/ns/pim/space#Storage"
STORAGE_DESCRIPTION = "http://www.w3.org/ns/solid/terms#storageDescription"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
CONTAINS = ox.NamedNode(LDP + "contains")
TTL = {"content-type": "text/turtle"}
CONTAINER_LINK = {"link": f'<{LDP}BasicContainer>; rel="type"'}
DOC = b"@prefix ex: <http://example.org/ns#>.\n<#it> ex:name \"first\".\n"
DOC2 = b"@prefix ex: <http://example.org/ns#>.\n<#it> ex:name \"second\".\n"
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')


@pytest.fixture
def base(server) -> str:
    """The server's origin, without the trailing slash: ``base + "/pub/..."`` is a URL."""
    return server.base.rstrip("/")


def links(resp: httpx.Response) -> dict[str, set[str]]:
    """The ``Link`` header as rel → set of target URLs."""
    out: dict[str, set[str]] = {}
    for target, rels in _LINK.findall(resp.headers.get("link", "")):
        for rel in rels.split():
            out.setdefault(rel, set()).add(target)
    return out


def methods(header: str | None) -> set[str]:
    return {m.strip().upper() for m in (header or "").split(",") if m.strip()}


def tokens(header: str | None) -> set[str]:
    return {t.strip().lower() for t in (header or "").split(",") if t.strip()}


def graph(resp: httpx.Response, url: str) -> set[ox.Triple]:
    assert resp.headers["content-type"].startswith("text/turtle"), resp.headers
    return {q.triple for q in ox.parse(resp.content, ox.RdfFormat.TURTLE, base_iri=url)}


def listing(http: httpx.Client, url: str) -> set[str]:
    """The members a container lists with ``ldp:contains``."""
    r = http.get(url, headers={"accept": "text/turtle"})
    assert r.status_code == 200, r.text
    node = ox.NamedNode(url)
    return {t.object.value for t in graph(r, url) if t.subject == node and t.predicate == CONTAINS}


def put(http: httpx.Client, path: str, body: bytes = DOC, ctype: str = "text/turtle",
        **headers: str) -> httpx.Response:
    return http.put(path, content=body, headers={"content-type": ctype, **headers})


def wac_allow(header: str) -> dict[str, set[str]]:
    return {k: set(v.split()) for k, v in re.findall(r'(\w+)\s*=\s*"([^"]*)"', header)}


# --- headers -------------------------------------------------------------------------------


def test_rdf_source_headers(http, base, pub):
    assert put(http, pub + "doc.ttl").status_code == 201
    r = http.get(pub + "doc.ttl")
    assert r.status_code == 200
    rel = links(r)
    assert {LDP + "Resource", LDP + "RDFSource"} <= rel["type"]
    assert not rel["type"] & {LDP + "BasicContainer", LDP + "Container", LDP + "NonRDFSource"}
    assert len(rel.get("acl", ())) == 1 and next(iter(rel["acl"])).startswith(base + "/pub/")
    assert len(rel.get("describedby", ())) == 1
    assert rel[STORAGE_DESCRIPTION] == {base + "/.well-known/solid"}
    allow = methods(r.headers.get("allow"))
    assert {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"} <= allow
    assert "POST" not in allow
    assert {"text/n3", "application/sparql-update"} <= tokens(r.headers.get("accept-patch"))
    assert "text/turtle" in tokens(r.headers.get("accept-put"))
    assert re.fullmatch(r'"[^"]+"', r.headers["etag"]), "a strong ETag"
    modified = parsedate_to_datetime(r.headers["last-modified"]).timestamp()
    assert abs(modified - time.time()) < 120
    assert r.headers["content-type"].startswith("text/turtle")
    allowed = wac_allow(r.headers["wac-allow"])
    assert set(allowed) == {"user", "public"}


def test_container_headers(http, pub):
    assert put(http, pub + "c/x.ttl").status_code == 201
    r = http.get(pub + "c/")
    assert r.status_code == 200
    assert {LDP + "Resource", LDP + "BasicContainer"} <= links(r)["type"]
    assert LDP + "NonRDFSource" not in links(r)["type"]
    assert {"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"} <= methods(
        r.headers.get("allow"))
    assert r.headers.get("accept-post"), "containers advertise Accept-Post"
    assert r.headers.get("accept-put")
    assert {"text/n3", "application/sparql-update"} <= tokens(r.headers.get("accept-patch"))
    assert re.fullmatch(r'"[^"]+"', r.headers["etag"])
    assert r.headers["content-type"].startswith("text/turtle")
    assert "wac-allow" in r.headers


def test_non_rdf_source_headers(http, pub):
    assert put(http, pub + "blob", b"\x00\x01binary", "application/octet-stream").status_code == 201
    r = http.get(pub + "blob")
    assert r.status_code == 200
    types = links(r)["type"]
    assert {LDP + "Resource", LDP + "NonRDFSource"} <= types
    assert LDP + "RDFSource" not in types
    assert r.headers["content-type"] == "application/octet-stream"
    assert re.fullmatch(r'"[^"]+"', r.headers["etag"])
    assert "last-modified" in r.headers and "wac-allow" in r.headers


@pytest.mark.parametrize("kind", ["rdf", "container", "binary"])
def test_head_has_get_headers_and_no_body(http, pub, kind):
    path = {"rdf": pub + "h.ttl", "container": pub, "binary": pub + "h.bin"}[kind]
    if kind == "binary":
        assert put(http, path, b"\x89PNG\r\n\x1a\n....", "image/png").status_code == 201
    else:
        assert put(http, pub + "h.ttl").status_code == 201
    get = http.get(path)
    head = http.head(path)
    assert get.status_code == head.status_code == 200
    assert head.content == b""
    strip = {"date"}
    assert {k: v for k, v in head.headers.items() if k not in strip} == \
        {k: v for k, v in get.headers.items() if k not in strip}
    assert int(head.headers["content-length"]) == len(get.content) > 0


@pytest.mark.parametrize("missing", ["{pub}nothing-here", "/alice/", "/no-such-pod/x"])
def test_head_errors_carry_no_body(server, http, pub, missing):
    """A body after a HEAD answer would be read as the next response on the connection."""
    assert put(http, pub + "doc.ttl").status_code == 201
    conn = client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("HEAD", missing.format(pub=pub))
        head = conn.getresponse()
        head.read()
        assert head.status in (401, 404)
        conn.request("GET", pub + "doc.ttl")
        after = conn.getresponse()
        assert after.status == 200
        assert b"first" in after.read()
    finally:
        conn.close()


def test_options_describes_resource(http, pub):
    assert put(http, pub + "doc.ttl").status_code == 201
    doc = http.options(pub + "doc.ttl")
    assert 200 <= doc.status_code < 300
    assert {"GET", "PUT", "PATCH", "DELETE"} <= methods(doc.headers.get("allow"))
    assert "text/n3" in tokens(doc.headers.get("accept-patch"))
    box = http.options(pub)
    assert 200 <= box.status_code < 300
    assert "POST" in methods(box.headers.get("allow"))
    assert box.headers.get("accept-post")


# --- the pod root and the storage description -------------------------------------------------


def test_pod_root_is_a_storage(http, base):
    url = base + "/pub/"
    r = http.get("/pub/", headers={"accept": "text/turtle"})
    assert r.status_code == 200
    assert {PIM_STORAGE, LDP + "BasicContainer"} <= links(r)["type"]
    assert ox.Triple(ox.NamedNode(url), RDF_TYPE, ox.NamedNode(PIM_STORAGE)) in graph(r, url)
    assert "DELETE" not in methods(r.headers.get("allow"))


def test_storage_description_is_turtle(http, base):
    r = http.get("/pub/")
    [described] = links(r)[STORAGE_DESCRIPTION]
    d = http.get(described, headers={"accept": "text/turtle"})
    assert d.status_code == 200
    assert d.headers["content-type"].startswith("text/turtle")
    kinds = {t.object.value for t in graph(d, described)
             if t.subject == ox.NamedNode(described) and t.predicate == RDF_TYPE}
    assert "http://www.w3.org/ns/solid/terms#StorageDescription" in kinds


def test_delete_pod_root_is_405(http):
    before = http.get("/pub/")
    r = http.delete("/pub/")
    assert r.status_code == 405
    assert "DELETE" not in methods(r.headers.get("allow"))
    after = http.get("/pub/")
    assert after.status_code == 200
    assert PIM_STORAGE in links(after)["type"]
    assert before.status_code == 200


def test_delete_of_the_root_acl_is_405_with_allow(fresh_server):
    """Solid §5.4: the root container's ACL cannot be deleted; a 405 names what is allowed
    (RFC 9110 §15.5.6), and Allow on the ACL itself does not offer DELETE. (A server of its
    own: if the ACL did go, the shared public pod would lock every later test out.)"""
    fresh_server.create_pod("pub", "--public-write")
    fresh_server.start()
    with httpx.Client(base_url=fresh_server.base, timeout=10) as http:
        before = http.get("/pub/.acl")
        assert before.status_code == 200
        r = http.delete("/pub/.acl")
        assert r.status_code == 405
        after = http.get("/pub/.acl")
        assert after.status_code == 200 and after.content == before.content
        assert "write" in wac_allow(http.get("/pub/").headers["wac-allow"])["public"]
        allow = methods(r.headers.get("allow"))
        assert allow and "DELETE" not in allow, "the 405 must say what is allowed"
        assert "DELETE" not in methods(after.headers.get("allow"))


# --- PUT -------------------------------------------------------------------------------------


def test_put_creates_201_then_replaces_204(http, base, pub):
    created = put(http, pub + "doc.ttl")
    assert created.status_code == 201
    first = http.get(pub + "doc.ttl")
    replaced = put(http, pub + "doc.ttl", DOC2)
    assert replaced.status_code == 204
    second = http.get(pub + "doc.ttl")
    url = base + pub + "doc.ttl"
    name = ox.NamedNode("http://example.org/ns#name")
    assert {t.object.value for t in graph(second, url) if t.predicate == name} == {"second"}
    assert first.headers["etag"] != second.headers["etag"]
    assert replaced.headers.get("etag", second.headers["etag"]) == second.headers["etag"]


def test_put_creates_intermediate_containers(http, base, pub):
    assert put(http, pub, b"").status_code == 201  # the test container exists beforehand
    assert put(http, pub + "a/b/c.ttl").status_code == 201
    assert base + pub + "a/" in listing(http, base + pub)
    assert listing(http, base + pub + "a/") == {base + pub + "a/b/"}
    assert listing(http, base + pub + "a/b/") == {base + pub + "a/b/c.ttl"}
    assert LDP + "BasicContainer" in links(http.get(pub + "a/b/"))["type"]


def test_container_listing_reflects_children(http, base, pub):
    assert put(http, pub + "one.ttl").status_code == 201
    assert put(http, pub + "two.ttl").status_code == 201
    posted = http.post(pub, content=DOC, headers={**TTL, "slug": "three"})
    assert posted.status_code == 201
    box = http.post(pub, headers={**CONTAINER_LINK, "slug": "box"})
    assert box.status_code == 201
    assert put(http, pub + "sub/inner.ttl").status_code == 201
    expected = {base + pub + "one.ttl", base + pub + "two.ttl", posted.headers["location"],
                box.headers["location"], base + pub + "sub/"}
    assert listing(http, base + pub) == expected


def test_container_etag_changes_when_a_member_is_added(http, pub):
    assert put(http, pub + "first.ttl").status_code == 201
    before = http.get(pub).headers["etag"]
    assert put(http, pub + "second.ttl").status_code == 201
    assert http.get(pub).headers["etag"] != before


@pytest.mark.parametrize(("first", "second"), [
    ("x", "x/"),        # a document, then a container of the same name
    ("x/", "x"),        # a container, then a document of the same name
    ("x", "x/inner"),   # a document, then something inside it as if it were a container
])
def test_slash_and_no_slash_never_both_exist(http, pub, first, second):
    assert put(http, pub + first, b"").status_code == 201
    r = put(http, pub + second, b"")
    assert r.status_code == 409, r.text
    assert http.get(pub + second).status_code == 404
    twin = first[:-1] if first.endswith("/") else first + "/"
    assert http.get(pub + twin).status_code == 404
    assert http.get(pub + first).status_code == 200


# --- POST ------------------------------------------------------------------------------------


def test_post_honours_slug_and_never_overwrites(http, base, pub):
    assert put(http, pub, b"").status_code == 201
    a = http.post(pub, content=DOC, headers={**TTL, "slug": "note"})
    b = http.post(pub, content=DOC2, headers={**TTL, "slug": "note"})
    assert a.status_code == b.status_code == 201
    assert a.headers["location"] == base + pub + "note"
    assert b.headers["location"] != a.headers["location"]
    assert b.headers["location"].startswith(base + pub)
    name = ox.NamedNode("http://example.org/ns#name")
    for resp, value in ((a, "first"), (b, "second")):
        url = resp.headers["location"]
        got = http.get(url)
        assert got.status_code == 200
        assert {t.object.value for t in graph(got, url) if t.predicate == name} == {value}
    assert {a.headers["location"], b.headers["location"]} <= listing(http, base + pub)


def test_concurrent_posts_with_one_slug_all_get_their_own_resource(http, base, pub):
    assert put(http, pub, b"").status_code == 201

    def post(i: int) -> httpx.Response:
        body = f'<#it> <http://example.org/ns#n> {i}.'.encode()
        return http.post(pub, content=body, headers={**TTL, "slug": "same"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(post, range(8)))
    assert [r.status_code for r in answers] == [201] * 8
    urls = {r.headers["location"] for r in answers}
    assert len(urls) == 8
    assert listing(http, base + pub) == urls


@pytest.mark.parametrize("slug", ["doc.ttl.acl", "doc.ttl.meta", ".acl", "a/b", "../up", "%2F"])
def test_slug_never_names_an_auxiliary_or_nested_resource(http, base, pub, slug):
    assert put(http, pub + "doc.ttl").status_code == 201
    acl_before = http.get(pub + "doc.ttl.acl").status_code
    r = http.post(pub, content=DOC, headers={**TTL, "slug": slug})
    assert r.status_code == 201
    url = r.headers["location"]
    name = url[len(base + pub):]
    assert url.startswith(base + pub) and name and "/" not in name
    assert not name.endswith((".acl", ".meta"))
    assert http.get(url).status_code == 200
    assert http.get(pub + "doc.ttl.acl").status_code == acl_before == 404
    assert http.get(pub + ".acl").status_code == 404


def test_post_without_slug_mints_a_new_name(http, base, pub):
    assert put(http, pub, b"").status_code == 201
    urls = {http.post(pub, content=DOC, headers=TTL).headers["location"] for _ in range(3)}
    assert len(urls) == 3
    for url in urls:
        assert url.startswith(base + pub) and not url.endswith("/")
        assert http.get(url).status_code == 200


def test_post_with_container_link_creates_a_container(http, base, pub):
    assert put(http, pub, b"").status_code == 201
    r = http.post(pub, headers={**CONTAINER_LINK, "slug": "box"})
    assert r.status_code == 201
    url = r.headers["location"]
    assert url == base + pub + "box/"
    got = http.get(url)
    assert got.status_code == 200
    assert LDP + "BasicContainer" in links(got)["type"]
    assert http.post(url, content=DOC, headers=TTL).status_code == 201
    assert url in listing(http, base + pub)


def test_post_to_missing_container_is_404(http, pub):
    r = http.post(pub + "missing/", content=DOC, headers={**TTL, "slug": "x"})
    assert r.status_code == 404
    assert http.get(pub + "missing/").status_code == 404
    assert http.get(pub + "missing/x").status_code == 404


def test_post_to_non_container_is_405(http, pub):
    assert put(http, pub + "doc.ttl").status_code == 201
    before = http.get(pub + "doc.ttl")
    r = http.post(pub + "doc.ttl", content=DOC2, headers=TTL)
    assert r.status_code == 405
    assert "POST" not in methods(r.headers.get("allow"))
    after = http.get(pub + "doc.ttl")
    assert after.content == before.content and after.headers["etag"] == before.headers["etag"]


# --- server-managed containment ----------------------------------------------------------------


def test_put_with_containment_triples_on_container_is_409(http, base, pub):
    assert put(http, pub + "item.ttl").status_code == 201
    before = http.get(pub)
    body = (f"<> <{LDP}contains> <{base}{pub}ghost> .").encode()
    r = put(http, pub, body)
    assert r.status_code == 409, r.text
    after = http.get(pub)
    assert after.headers["etag"] == before.headers["etag"]
    assert base + pub + "ghost" not in listing(http, base + pub)


@pytest.mark.parametrize("ctype", ["text/n3", "application/sparql-update"])
def test_patch_inserting_containment_is_409(http, base, pub, ctype):
    assert put(http, pub + "item.ttl").status_code == 201
    before = http.get(pub).headers["etag"]
    triple = f"<{base}{pub}> <{LDP}contains> <{base}{pub}ghost> ."
    body = (f"INSERT DATA {{ {triple} }}" if ctype == "application/sparql-update" else
            "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            f"_:p a solid:InsertDeletePatch; solid:inserts {{ {triple} }}.")
    r = http.patch(pub, content=body.encode(), headers={"content-type": ctype})
    assert r.status_code == 409, r.text
    assert http.get(pub).headers["etag"] == before
    assert base + pub + "ghost" not in listing(http, base + pub)


def test_patch_deleting_containment_is_409(http, base, pub):
    assert put(http, pub + "item.ttl").status_code == 201
    triple = f"<{base}{pub}> <{LDP}contains> <{base}{pub}item.ttl> ."
    r = http.patch(pub, content=f"DELETE DATA {{ {triple} }}".encode(),
                   headers={"content-type": "application/sparql-update"})
    assert r.status_code == 409, r.text
    assert listing(http, base + pub) == {base + pub + "item.ttl"}


# --- DELETE ----------------------------------------------------------------------------------


def test_delete_non_empty_container_is_409(http, pub):
    assert put(http, pub + "f.ttl").status_code == 201
    assert put(http, pub + "g.ttl").status_code == 201
    assert http.delete(pub + "f.ttl").status_code == 204
    r = http.delete(pub)
    assert r.status_code == 409, "g.ttl is still inside"
    assert http.get(pub + "g.ttl").status_code == 200
    assert http.get(pub).status_code == 200


def test_delete_then_get_is_404_and_parent_forgets_it(http, base, pub):
    assert put(http, pub + "a.ttl").status_code == 201
    assert put(http, pub + "b.ttl").status_code == 201
    assert listing(http, base + pub) == {base + pub + "a.ttl", base + pub + "b.ttl"}
    assert http.delete(pub + "a.ttl").status_code == 204
    assert http.get(pub + "a.ttl").status_code == 404
    assert listing(http, base + pub) == {base + pub + "b.ttl"}
    assert http.delete(pub + "a.ttl").status_code == 404


def test_delete_empty_container(http, base, pub):
    assert put(http, pub + "sub/x.ttl").status_code == 201
    assert http.delete(pub + "sub/x.ttl").status_code == 204
    assert listing(http, base + pub + "sub/") == set()
    assert http.delete(pub + "sub/").status_code == 204
    assert http.get(pub + "sub/").status_code == 404
    assert base + pub + "sub/" not in listing(http, base + pub)


# --- conditional requests --------------------------------------------------------------------


def test_etags_are_strong_and_change_on_write(http, pub):
    created = put(http, pub + "doc.ttl")
    got = http.get(pub + "doc.ttl")
    assert not got.headers["etag"].startswith("W/")
    assert created.headers.get("etag", got.headers["etag"]) == got.headers["etag"]
    assert put(http, pub + "doc.ttl", DOC2).status_code == 204
    assert http.get(pub + "doc.ttl").headers["etag"] != got.headers["etag"]


def test_if_match_current_etag_succeeds(http, pub):
    assert put(http, pub + "doc.ttl").status_code == 201
    etag = http.get(pub + "doc.ttl").headers["etag"]
    assert put(http, pub + "doc.ttl", DOC2, **{"if-match": etag}).status_code == 204
    assert b"second" in http.get(pub + "doc.ttl").content


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_if_match_stale_etag_is_412_and_nothing_changes(http, pub, method):
    assert put(http, pub + "doc.ttl").status_code == 201
    stale = http.get(pub + "doc.ttl").headers["etag"]
    assert put(http, pub + "doc.ttl", DOC2).status_code == 204
    before = http.get(pub + "doc.ttl")
    body = {"PUT": DOC, "PATCH": b"INSERT DATA { <#x> <http://example.org/ns#p> 1 }",
            "DELETE": b""}[method]
    ctype = "application/sparql-update" if method == "PATCH" else "text/turtle"
    r = http.request(method, pub + "doc.ttl", content=body,
                     headers={"content-type": ctype, "if-match": stale})
    assert r.status_code == 412, r.text
    after = http.get(pub + "doc.ttl")
    assert after.content == before.content and after.headers["etag"] == before.headers["etag"]


def test_if_match_uses_strong_comparison(http, pub):
    """RFC 9110 §13.1.1: If-Match compares strongly, so a weak tag never matches."""
    assert put(http, pub + "doc.ttl").status_code == 201
    etag = http.get(pub + "doc.ttl").headers["etag"]
    r = put(http, pub + "doc.ttl", DOC2, **{"if-match": "W/" + etag})
    assert r.status_code == 412
    assert b"first" in http.get(pub + "doc.ttl").content


def test_if_match_star_on_missing_is_412(http, pub):
    r = put(http, pub + "doc.ttl", **{"if-match": "*"})
    assert r.status_code == 412
    assert http.get(pub + "doc.ttl").status_code == 404


def test_if_none_match_star(http, pub):
    assert put(http, pub + "doc.ttl", **{"if-none-match": "*"}).status_code == 201
    etag = http.get(pub + "doc.ttl").headers["etag"]
    r = put(http, pub + "doc.ttl", DOC2, **{"if-none-match": "*"})
    assert r.status_code == 412
    again = http.get(pub + "doc.ttl")
    assert again.headers["etag"] == etag and b"first" in again.content


def test_concurrent_creates_with_if_none_match_star_have_one_winner(http, pub):
    def create(i: int) -> httpx.Response:
        body = f'<#it> <http://example.org/ns#n> {i}.'.encode()
        return put(http, pub + "once.ttl", body, **{"if-none-match": "*"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(create, range(8)))
    assert sorted(r.status_code for r in answers) == [201] + [412] * 7
    [winner] = [i for i, r in enumerate(answers) if r.status_code == 201]
    assert f"{winner}".encode() in http.get(pub + "once.ttl").content


def test_if_none_match_current_etag_on_get_is_304(http, pub):
    assert put(http, pub + "doc.ttl").status_code == 201
    etag = http.get(pub + "doc.ttl").headers["etag"]
    r = http.get(pub + "doc.ttl", headers={"if-none-match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers.get("etag") == etag
    other = http.get(pub + "doc.ttl", headers={"if-none-match": '"something-else"'})
    assert other.status_code == 200


# --- CORS ------------------------------------------------------------------------------------

ORIGIN = "https://app.example"


def test_cors_headers_echo_origin(http, pub):
    assert put(http, pub + "doc.ttl").status_code == 201
    r = http.get(pub + "doc.ttl", headers={"origin": ORIGIN})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert {"wac-allow", "link", "etag"} <= tokens(r.headers["access-control-expose-headers"])
    assert "origin" in tokens(r.headers.get("vary"))


def test_cors_headers_on_errors(http):
    r = http.get("/alice/", headers={"origin": ORIGIN})
    assert r.status_code == 401
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "www-authenticate" in tokens(r.headers["access-control-expose-headers"])


@pytest.mark.parametrize("path", ["/alice/private/thing", "/alice/", "/pub/"])
def test_preflight_succeeds_even_on_private_resources(http, path):
    r = http.options(path, headers={
        "origin": ORIGIN, "access-control-request-method": "PUT",
        "access-control-request-headers": "content-type, if-match, slug"})
    assert 200 <= r.status_code < 300
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "PUT" in methods(r.headers["access-control-allow-methods"])
    assert {"content-type", "if-match", "slug"} <= tokens(r.headers["access-control-allow-headers"])


def test_pod_root_without_slash_redirects(server, http):
    r = http.get("/pub", follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == server.base + "pub/"
