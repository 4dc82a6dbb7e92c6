"""PATCH end to end: N3 Patch (Solid Protocol 0.11 §5.3.1) and SPARQL Update, their failure
statuses (400, 409, 415, 422), and that a failed PATCH leaves the resource exactly as it was."""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest

N3 = {"content-type": "text/n3"}
SPARQL = {"content-type": "application/sparql-update"}
PREFIXES = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            "@prefix ex: <http://example.org/ns#>.\n")
START = b"""@prefix ex: <http://example.org/ns#>.
<#a> ex:status "open"; ex:title "A".
<#b> ex:status "done"; ex:title "B".
"""


@pytest.fixture
def base(server) -> str:
    return server.base.rstrip("/")


@pytest.fixture
def doc(http, base, pub) -> tuple[str, str]:
    """A Turtle document holding START: (request path, absolute URL)."""
    path = pub + "doc.ttl"
    r = http.put(path, content=START, headers={"content-type": "text/turtle"})
    assert r.status_code == 201
    return path, base + path


def triples(http: httpx.Client, path: str, url: str) -> set[ox.Triple]:
    r = http.get(path, headers={"accept": "application/n-triples"})
    assert r.status_code == 200, r.text
    return {q.triple for q in ox.parse(r.content, ox.RdfFormat.N_TRIPLES, base_iri=url)}


def ttl(text: str | bytes, url: str) -> set[ox.Triple]:
    data = text.encode() if isinstance(text, str) else text
    return {q.triple for q in ox.parse(data, ox.RdfFormat.TURTLE, base_iri=url)}


def n3(body: str) -> bytes:
    return (PREFIXES + body).encode()


def snapshot(http: httpx.Client, path: str) -> tuple[bytes, str]:
    r = http.get(path, headers={"accept": "text/turtle"})
    return r.content, r.headers["etag"]


# --- N3 Patch --------------------------------------------------------------------------------


def test_n3_insert(http, doc):
    path, url = doc
    r = http.patch(path, headers=N3, content=n3(
        '_:p a solid:InsertDeletePatch; solid:inserts { <#c> ex:status "new"; ex:n 7 }.'))
    assert r.status_code in (200, 204), r.text
    expected = ttl(START, url) | ttl('@prefix ex: <http://example.org/ns#>.\n'
                                     '<#c> ex:status "new"; ex:n 7.', url)
    assert triples(http, path, url) == expected
    if "etag" in r.headers:
        assert r.headers["etag"] == http.get(path).headers["etag"]


def test_n3_insert_with_fresh_blank_node(http, doc):
    path, url = doc
    r = http.patch(path, headers=N3, content=n3(
        '_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:tag [ ex:label "x" ] }.'))
    assert r.status_code in (200, 204), r.text
    after = triples(http, path, url)
    [tag] = [t for t in after if t.predicate == ox.NamedNode("http://example.org/ns#tag")]
    assert isinstance(tag.object, ox.BlankNode)
    assert ox.Triple(tag.object, ox.NamedNode("http://example.org/ns#label"),
                     ox.Literal("x")) in after


def test_n3_delete_and_insert_with_where(http, doc):
    path, url = doc
    r = http.patch(path, headers=N3, content=n3("""
_:p a solid:InsertDeletePatch;
  solid:where { ?item ex:status "open" };
  solid:deletes { ?item ex:status "open" };
  solid:inserts { ?item ex:status "closed" }.
"""))
    assert r.status_code in (200, 204), r.text
    expected = ttl(START.replace(b'"open"', b'"closed"'), url)
    assert triples(http, path, url) == expected


def test_n3_delete_without_where(http, doc):
    path, url = doc
    r = http.patch(path, headers=N3, content=n3(
        '_:p a solid:InsertDeletePatch; solid:deletes { <#b> ex:title "B" }.'))
    assert r.status_code in (200, 204), r.text
    expected = ttl(START, url) - ttl('<#b> <http://example.org/ns#title> "B".', url)
    assert triples(http, path, url) == expected


@pytest.mark.parametrize(("where", "why"), [
    ('?item ex:status "missing"', "no solution"),
    ("?item ex:title ?title", "two solutions"),
])
def test_n3_where_needs_exactly_one_solution(http, doc, where, why):
    path, _ = doc
    before = snapshot(http, path)
    r = http.patch(path, headers=N3, content=n3(f"""
_:p a solid:InsertDeletePatch;
  solid:where {{ {where} }};
  solid:inserts {{ ?item ex:seen true }}.
"""))
    assert r.status_code == 409, f"{why}: {r.text}"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert snapshot(http, path) == before


def test_n3_deleting_a_missing_triple_is_409(http, doc):
    path, _ = doc
    before = snapshot(http, path)
    r = http.patch(path, headers=N3, content=n3("""
_:p a solid:InsertDeletePatch;
  solid:deletes { <#a> ex:title "not this" };
  solid:inserts { <#a> ex:title "never" }.
"""))
    assert r.status_code == 409, r.text
    assert snapshot(http, path) == before


@pytest.mark.parametrize(("body", "why"), [
    ('_:p a solid:InsertDeletePatch; solid:inserts { <#x> ex:p 1 }.\n'
     '_:q a solid:InsertDeletePatch; solid:inserts { <#y> ex:p 2 }.', "two patch resources"),
    ('_:p a solid:InsertDeletePatch; solid:inserts { <#x> ex:p ?v }.',
     "variable not in where"),
    ('_:p a solid:InsertDeletePatch; solid:where { ?s ex:title "A" }; '
     'solid:deletes { ?s ex:status ?gone }.', "deletes variable not in where"),
    ('_:p solid:inserts { <#x> ex:p 1 }.', "patch resource not typed"),
    ('_:p a solid:InsertDeletePatch; solid:inserts { <#x> ex:p 1 }, { <#y> ex:p 2 }.',
     "two inserts formulae"),
    ('_:p a solid:InsertDeletePatch; solid:deletes { _:b ex:title "A" }.',
     "blank node in deletes"),
    ('_:p a solid:InsertDeletePatch; solid:inserts <#not-a-formula>.', "inserts not a formula"),
])
def test_n3_malformed_patch_is_422(http, doc, body, why):
    path, _ = doc
    before = snapshot(http, path)
    r = http.patch(path, headers=N3, content=n3(body))
    assert r.status_code == 422, f"{why}: {r.status_code} {r.text}"
    problem = r.json()
    assert problem["status"] == 422 and problem["detail"]
    assert snapshot(http, path) == before


def test_n3_syntax_error_is_400_with_line(http, doc):
    path, _ = doc
    before = snapshot(http, path)
    body = (b"@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            b"_:p a solid:InsertDeletePatch;\n"
            b"  solid:inserts { <#y> <http://example.org/ns#p> <#z> <#w> }.\n")
    r = http.patch(path, headers=N3, content=body)
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 400
    assert problem["type"] and problem["title"]
    assert "line 3" in problem["detail"]
    assert problem.get("line") == 3
    assert snapshot(http, path) == before


# --- SPARQL Update ---------------------------------------------------------------------------


def test_sparql_insert_data(http, doc):
    path, url = doc
    r = http.patch(path, headers=SPARQL, content=b"""
PREFIX ex: <http://example.org/ns#>
INSERT DATA { <#c> ex:status "new" ; ex:title "C" . }""")
    assert r.status_code in (200, 204), r.text
    expected = ttl(START, url) | ttl(
        '<#c> <http://example.org/ns#status> "new"; <http://example.org/ns#title> "C".', url)
    assert triples(http, path, url) == expected


def test_sparql_delete_data(http, doc):
    path, url = doc
    r = http.patch(path, headers=SPARQL, content=b"""
PREFIX ex: <http://example.org/ns#>
DELETE DATA { <#a> ex:title "A" . }""")
    assert r.status_code in (200, 204), r.text
    expected = ttl(START, url) - ttl('<#a> <http://example.org/ns#title> "A".', url)
    assert triples(http, path, url) == expected


def test_sparql_delete_insert_where(http, doc):
    path, url = doc
    r = http.patch(path, headers=SPARQL, content=b"""
PREFIX ex: <http://example.org/ns#>
DELETE { ?s ex:status ?old }
INSERT { ?s ex:status "archived" }
WHERE { ?s ex:status ?old }""")
    assert r.status_code in (200, 204), r.text
    expected = ttl(START.replace(b'"open"', b'"archived"').replace(b'"done"', b'"archived"'), url)
    assert triples(http, path, url) == expected


def test_sparql_syntax_error_is_400(http, doc):
    path, _ = doc
    before = snapshot(http, path)
    r = http.patch(path, headers=SPARQL, content=b"INSERT DATA { <#a> <#b> ")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert snapshot(http, path) == before


def test_sparql_named_graphs_are_refused(http, doc):
    path, _ = doc
    before = snapshot(http, path)
    r = http.patch(path, headers=SPARQL,
                   content=b"INSERT DATA { GRAPH <#g> { <#a> <#b> <#c> } }")
    assert r.status_code == 422, r.text
    assert snapshot(http, path) == before


# --- creation, media types -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["n3", "sparql"])
def test_patch_to_a_missing_resource_creates_it(http, base, pub, kind):
    path, url = pub + "new.ttl", base + pub + "new.ttl"
    if kind == "n3":
        headers, body = N3, n3('_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:p 1 }.')
    else:
        headers, body = SPARQL, b"INSERT DATA { <#it> <http://example.org/ns#p> 1 }"
    r = http.patch(path, headers=headers, content=body)
    assert r.status_code == 201, r.text
    assert triples(http, path, url) == ttl("<#it> <http://example.org/ns#p> 1.", url)
    got = http.get(path)
    assert got.headers["content-type"].startswith("text/turtle")
    assert "RDFSource" in got.headers["link"]
    listed = http.get(pub, headers={"accept": "text/turtle"})
    assert ox.NamedNode(url) in {t.object for t in ttl(listed.content, base + pub)}


@pytest.mark.parametrize("ctype", ["application/json", "text/turtle",
                                   "application/json-patch+json"])
def test_unsupported_patch_media_type_is_415(http, doc, ctype):
    path, _ = doc
    before = snapshot(http, path)
    r = http.patch(path, headers={"content-type": ctype}, content=b'{"op": "add"}')
    assert r.status_code == 415
    assert {"text/n3", "application/sparql-update"} <= {
        v.strip() for v in r.headers.get("accept-patch", "").split(",")}
    assert snapshot(http, path) == before


def test_patch_of_a_non_rdf_resource_is_refused(http, pub):
    assert http.put(pub + "blob", content=b"bytes", headers={
        "content-type": "application/octet-stream"}).status_code == 201
    r = http.patch(pub + "blob", headers=SPARQL, content=b"INSERT DATA { <#a> <#b> <#c> }")
    assert 400 <= r.status_code < 500
    assert http.get(pub + "blob").content == b"bytes"


def test_patch_on_a_container_keeps_its_members(http, base, pub):
    assert http.put(pub + "item.ttl", content=START,
                    headers={"content-type": "text/turtle"}).status_code == 201
    r = http.patch(pub, headers=SPARQL,
                   content=b'INSERT DATA { <> <http://purl.org/dc/terms/title> "Box" }')
    assert r.status_code in (200, 204), r.text
    got = ttl(http.get(pub, headers={"accept": "text/turtle"}).content, base + pub)
    node = ox.NamedNode(base + pub)
    assert ox.Triple(node, ox.NamedNode("http://purl.org/dc/terms/title"),
                     ox.Literal("Box")) in got
    assert ox.Triple(node, ox.NamedNode("http://www.w3.org/ns/ldp#contains"),
                     ox.NamedNode(base + pub + "item.ttl")) in got
