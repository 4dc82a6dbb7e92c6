"""What the peers do on the Solid suites (issue #10 §5): RDFa in HTML and XHTML documents read
as Turtle or JSON-LD (solid-crud-tests' two MAY tests), never fetching anything, and
``Authorization: DPoP`` without a token answered as anonymous, as the Community Solid Server
does."""

from __future__ import annotations

import json

import httpx
import pyoxigraph as ox
import pytest

from tests.conftest import Server
from tests.listeners import listening

FOAF = "http://xmlns.com/foaf/0.1/"
XHTML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML+RDFa 1.0//EN"
  "http://www.w3.org/MarkUp/DTD/xhtml-rdfa-1.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:foaf="http://xmlns.com/foaf/0.1/"
      xmlns:contact="http://www.w3.org/2000/10/swap/pim/contact#"
      xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
<head><title>Jerry's page</title></head>
<body about="">
  <p property="foaf:name">Jerry Smith</p>
  <p rel="foaf:phone" resource="tel:+6112345678">call</p>
  <p rel="rdfs:seeAlso" resource="about.htm">about</p>
  <div rel="contact:address"><p property="contact:city">Adelaide</p></div>
</body>
</html>
"""
HTML = """<!DOCTYPE html>
<html prefix="foaf: http://xmlns.com/foaf/0.1/">
<head><title>Ida</title></head>
<body>
<div about="#me" typeof="foaf:Person">
  <span property="foaf:name">Ida</span>
  <a rel="foaf:knows" href="https://pods.example/amara/profile/card#me">Amara</a>
</div>
</body>
</html>
"""
RDF_SYNTAX = {"text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD,
              "application/n-triples": ox.RdfFormat.N_TRIPLES}


def triples(r: httpx.Response, url: str) -> set[ox.Triple]:
    ctype = r.headers["content-type"].split(";")[0]
    return {q.triple for q in ox.parse(r.content, RDF_SYNTAX[ctype], base_iri=url)}


def put(url: str, body: str, ctype: str) -> None:
    r = httpx.put(url, content=body.encode(), headers={"Content-Type": ctype})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json"])
def test_xhtml_with_rdfa_is_read_as_rdf(server: Server, pub: str, accept: str) -> None:
    """solid-crud-tests' "Get RDFa" MAY tests: an XHTML document (PUT with a charset) asked for
    as Turtle or JSON-LD answers its RDFa, relative IRIs resolved against its URL."""
    url = server.base + pub[1:] + "example.html"
    put(url, XHTML, "application/xhtml+xml; charset=utf-8")
    r = httpx.get(url, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == accept
    found = {(t.subject.value if isinstance(t.subject, ox.NamedNode) else "_",
              t.predicate.value, t.object.value if not isinstance(t.object, ox.BlankNode)
              else "_") for t in triples(r, url)}
    assert {(url, FOAF + "name", "Jerry Smith"), (url, FOAF + "phone", "tel:+6112345678"),
            (url, "http://www.w3.org/2000/01/rdf-schema#seeAlso", server.base + pub[1:]
             + "about.htm"),
            (url, "http://www.w3.org/2000/10/swap/pim/contact#address", "_"),
            ("_", "http://www.w3.org/2000/10/swap/pim/contact#city", "Adelaide")} <= found
    # asked for what it is, or with no preference, it is the document as written
    for same in ("application/xhtml+xml", "*/*", None):
        r = httpx.get(url, headers={"Accept": same} if same else {})
        assert r.content == XHTML.encode()
        assert r.headers["content-type"] == "application/xhtml+xml; charset=utf-8"


def test_html_with_rdfa_is_read_as_rdf(server: Server, pub: str) -> None:
    url = server.base + pub[1:] + "ida.html"
    put(url, HTML, "text/html")
    r = httpx.get(url, headers={"Accept": "text/turtle"})
    assert r.status_code == 200, r.text
    me = ox.NamedNode(url + "#me")
    assert {ox.Triple(me, ox.NamedNode(FOAF + "name"), ox.Literal("Ida")),
            ox.Triple(me, ox.NamedNode(FOAF + "knows"),
                      ox.NamedNode("https://pods.example/amara/profile/card#me")),
            ox.Triple(me, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                      ox.NamedNode(FOAF + "Person"))} <= triples(r, url)
    assert httpx.get(url, headers={"Accept": "text/html"}).text == HTML
    assert httpx.get(url, headers={"Accept": "image/png"}).status_code == 406


def test_rdfa_follows_the_document_it_was_read_from(server: Server, pub: str) -> None:
    """The conversion is cached by version: a new version is read again."""
    url = server.base + pub[1:] + "ida.html"
    put(url, HTML, "text/html")
    assert "Ida" in httpx.get(url, headers={"Accept": "text/turtle"}).text
    r = httpx.put(url, content=HTML.replace(">Ida<", ">Ida Wells<").encode(),
                  headers={"Content-Type": "text/html"})
    assert r.status_code == 204
    assert "Ida Wells" in httpx.get(url, headers={"Accept": "text/turtle"}).text


def test_reading_rdfa_fetches_nothing(server: Server, pub: str) -> None:
    """Vocabularies, profiles, DTDs, bases and embedded documents that point at an address
    the server could reach are never requested (a loopback listener counts connections)."""
    with listening() as listener:
        there = listener.url
        doc = f"""<?xml version="1.0"?>
<!DOCTYPE html SYSTEM "{there}/dtd">
<html xmlns="http://www.w3.org/1999/xhtml" version="XHTML+RDFa 1.1">
<head profile="{there}/profile"><title>t</title>
<link rel="profile" href="{there}/profile2"/></head>
<body vocab="{there}/vocab#" prefix="ex: {there}/ns#">
  <p property="name">named by a remote vocabulary</p>
  <p about="{there}/thing" property="ex:label">a remote subject</p>
  <img src="{there}/img.png" alt=""/>
  <script type="text/turtle">&lt;#a&gt; &lt;{there}/p&gt; &lt;{there}/o&gt; .</script>
</body>
</html>
"""
        url = server.base + pub[1:] + "remote.xhtml"
        put(url, doc, "application/xhtml+xml")
        for accept in ("text/turtle", "application/ld+json", "application/n-triples"):
            r = httpx.get(url, headers={"Accept": accept}, timeout=30)
            assert r.status_code == 200, r.text
        assert f"{there}/vocab#name" in httpx.get(
            url, headers={"Accept": "application/n-triples"}).text
        assert listener.hits == 0


def test_a_document_that_is_not_html_is_not_read_as_rdfa(server: Server, pub: str) -> None:
    url = server.base + pub[1:] + "notes.txt"
    put(url, "<p property='x'>y</p>", "text/plain")
    assert httpx.get(url, headers={"Accept": "text/turtle"}).status_code == 406


# --- Authorization: DPoP without a token -------------------------------------------------------


@pytest.mark.parametrize("header", ["DPoP", "dpop"])
def test_dpop_scheme_without_a_token_is_anonymous(server: Server, pub: str,
                                                  header: str) -> None:
    """Chosen and documented (docs/auth.md): the scheme alone carries no credentials, so the
    request is anonymous — public resources read, private ones answer the usual 401."""
    url = server.base + pub[1:] + "open.json"
    put(url, json.dumps({"a": 1}), "application/json")
    r = httpx.get(url, headers={"Authorization": header})
    assert r.status_code == 200 and r.json() == {"a": 1}
    private = httpx.get(server.base + "alice/", headers={"Authorization": header})
    assert private.status_code == 401
    assert private.headers["www-authenticate"].startswith("DPoP")
    assert "error=" not in private.headers["www-authenticate"]  # no token was refused


def test_a_bearer_scheme_without_a_token_is_still_refused(server: Server, pub: str) -> None:
    url = server.base + pub[1:] + "open.json"
    put(url, json.dumps({"a": 1}), "application/json")
    assert httpx.get(url, headers={"Authorization": "Bearer"}).status_code == 401
