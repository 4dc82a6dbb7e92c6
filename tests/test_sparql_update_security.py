"""SPARQL Update PATCH bodies: what is checked is what runs (issue #9 §1).

An earlier version validated an update with rdflib and then ran the text with pyoxigraph; the two
disagree on where a ``#`` comment ends, so ``LOAD``, ``SERVICE`` or ``DELETE WHERE`` hidden after
``# …\\r`` passed the check and ran — before authorization, and with network access. These tests
attack a live server: a loopback listener must never see a connection, an agent with only Append
must never remove or read anything, and a differential run over edge cases shows the server
doing exactly what the one parser it uses (rdflib's) read, wherever the two parsers disagree.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.update import evalUpdate

from tests.dpop import DPoPClient
from tests.listeners import listening

SPARQL = {"content-type": "application/sparql-update"}
TURTLE = {"content-type": "text/turtle"}
START = '<#a> <#p> "1" . <#b> <#p> "2" . <#c> <#q> "3" .'
APPEND_ONLY_ACL = """@prefix acl: <http://www.w3.org/ns/auth/acl#>.
@prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#append> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <{doc}>;
  acl:mode acl:Append.
<#keeper> a acl:Authorization; acl:agent <{keeper}>; acl:accessTo <{doc}>;
  acl:mode acl:Read, acl:Write, acl:Control.
"""


@pytest.fixture
def base(server) -> str:
    """The server's origin without the trailing slash: ``base + path`` is a URL."""
    return server.base.rstrip("/")


def triples(body: bytes, url: str) -> set[str]:
    return {str(t) for t in ox.parse(body, ox.RdfFormat.TURTLE, base_iri=url)}


def stored(http: httpx.Client, path: str, url: str) -> set[str]:
    r = http.get(path, headers={"accept": "text/turtle"})
    assert r.status_code == 200, r.text
    return triples(r.content, url)


def new_doc(http: httpx.Client, pub: str, base: str) -> tuple[str, str]:
    path = f"{pub}d-{uuid.uuid4().hex[:8]}.ttl"
    assert http.put(path, content=START.encode(), headers=TURTLE).status_code == 201
    return path, base + path


def hidden(before: str, after: str) -> list[str]:
    """``after`` hidden behind a comment that ends in each line-ending spelling."""
    return [f"{before} # x{sep}; {after}" for sep in ("\r", "\n", "\r\n", "\u2028", "\x85")]


# --- SSRF: no request a PATCH causes ever leaves the server --------------------------------


def test_hidden_load_never_fetches_even_before_authorization(http, server) -> None:
    """The audit's exact request: anonymous, into a private pod."""
    with listening() as listener:
        for body in hidden('INSERT DATA { <urn:a> <urn:b> 1 }', f"LOAD <{listener.url}>"):
            r = http.patch(f"/alice/anything-{uuid.uuid4().hex[:6]}", content=body.encode(),
                           headers=SPARQL)
            assert r.status_code == 401, r.text
        time.sleep(0.3)
        assert listener.hits == 0


@pytest.mark.parametrize("form", ["LOAD <{url}>", "LOAD SILENT <{url}> INTO GRAPH <urn:g>",
                                  "INSERT { <#x> <#p> ?o } WHERE { SERVICE <{url}> { ?s ?p ?o } }",
                                  "INSERT { <#x> <#p> 1 } WHERE { SERVICE SILENT <{url}> { } }",
                                  "CLEAR ALL", "DROP DEFAULT", "CREATE GRAPH <urn:g>",
                                  "ADD DEFAULT TO <urn:g>", "COPY DEFAULT TO <urn:g>"])
def test_network_and_graph_operations_are_refused(http, pub, base, form) -> None:
    path, url = new_doc(http, pub, base)
    with listening() as listener:
        body = form.replace("{url}", listener.url)
        for text in [body, *hidden('INSERT DATA { <#z> <#p> "0" }', body)]:
            r = http.patch(path, content=text.encode(), headers=SPARQL)
            assert r.status_code < 500, r.text
            if text == body:  # refused as unsupported (422) or, by rdflib's grammar, unparsable
                assert r.status_code in (400, 422), r.text
                assert r.headers["content-type"].startswith("application/problem+json")
        time.sleep(0.3)
        assert listener.hits == 0
    assert {t for t in stored(http, path, url) if "#z" not in t} == triples(START.encode(), url)


def test_a_load_of_an_address_that_never_answers_does_not_freeze_the_server(
        http, pub, base) -> None:
    path, _ = new_doc(http, pub, base)
    with listening() as listener:
        started = time.monotonic()
        for body in hidden('INSERT DATA { <#z> <#p> "0" }', f"LOAD <{listener.url}>"):
            r = http.patch(path, content=body.encode(), headers=SPARQL)
            assert r.status_code < 500
        assert time.monotonic() - started < 10
        assert http.get("/.well-known/solid").status_code == 200
        assert listener.hits == 0


# --- WAC: an append-only agent can neither delete nor read ---------------------------------


@pytest.fixture(scope="module")
def keeper(server) -> DPoPClient:
    """An account that keeps Read and Write on the append-only documents, to look at them."""
    who = server.create_account(f"keeper{uuid.uuid4().hex[:6]}")
    return DPoPClient(server.base, who)


def append_only(http: httpx.Client, pub: str, base: str, keeper: DPoPClient
                ) -> tuple[str, str]:
    """A document on which anyone (anonymous included) holds only Append; ``keeper`` holds
    Read, Write and Control."""
    path, url = new_doc(http, pub, base)
    acl = APPEND_ONLY_ACL.format(doc=url, keeper=keeper.who["webid"]).encode()
    assert http.put(path + ".acl", content=acl, headers=TURTLE).status_code == 201
    assert http.get(path).status_code == 401, "no longer readable anonymously"
    return path, url


@pytest.mark.parametrize("tail", ["DELETE WHERE { ?s ?p ?o }",
                                  'DELETE DATA { <#a> <#p> "1" }',
                                  "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                  "INSERT { <#leak> <#p> ?o } WHERE { <#a> <#p> ?o }"])
def test_append_only_agents_cannot_delete_or_read_by_hiding_operations(
        http, pub, base, keeper, tail) -> None:
    path, url = append_only(http, pub, base, keeper)
    r = http.patch(path, content=tail.encode(), headers=SPARQL)
    assert r.status_code == 401, "this needs Read or Write, which the agent lacks"
    with listening() as listener:
        spy = ("INSERT { <#z> <#p> 1 } WHERE { <#a> <#p> ?o "
               f"SERVICE SILENT <{listener.url}> {{ }} }}")
        for body in [*hidden('INSERT DATA { <#z> <#p> "0" }', tail), spy,
                     *hidden('INSERT DATA { <#z> <#p> "0" }', spy)]:
            r = http.patch(path, content=body.encode(), headers=SPARQL)
            assert r.status_code in (204, 400, 401, 422), r.text
        assert listener.hits == 0
    got = keeper.request("GET", url, headers={"accept": "text/turtle"})
    assert got.status_code == 200, got.text
    after = triples(got.content, url)
    assert after >= triples(START.encode(), url), "nothing was removed"
    assert not any("#leak" in t for t in after), "nothing was copied out"


# --- differential: the server runs what its one parser read ------------------------------

SEPARATORS = {"LF": "\n", "CR": "\r", "CRLF": "\r\n", "LS": "\u2028", "PS": "\u2029",
              "NEL": "\x85", "VT": "\x0b", "FF": "\x0c"}
TEMPLATES = {
    "between-ops": 'INSERT DATA {{ <#x> <#p> "1" }} # note{sep}; INSERT DATA {{ <#y> <#p> "2" }}',
    "before-op": '# note{sep}INSERT DATA {{ <#x> <#p> "1" }}',
    "inside-data": 'INSERT DATA {{ <#x> <#p> "1" . # note{sep} <#y> <#p> "2" }}',
    "after-prefix": 'PREFIX ex: <http://example.org/> # note{sep}INSERT DATA {{ <#x> ex:p "1" }}',
    "hides-delete": 'INSERT DATA {{ <#x> <#p> "1" }} # note{sep}; DELETE WHERE {{ ?s ?p ?o }}',
    "in-where": 'DELETE {{ ?s <#q> ?o }} WHERE {{ ?s <#q> ?o # note{sep} . ?s <#p> "1" }}',
    "as-space": 'INSERT DATA {{ <#x>{sep}<#p>{sep}"1" }}',
}
EDGE_CASES = {f"{kind}/{name}": text.format(sep=sep)
              for kind, text in TEMPLATES.items() for name, sep in SEPARATORS.items()}
EDGE_CASES.update({
    "string-with-hash": 'INSERT DATA { <#x> <#p> "# not a comment" }',
    "string-escaped-cr": 'INSERT DATA { <#x> <#p> "a\\u000Db" }',
    "string-escaped-tab": 'INSERT DATA { <#x> <#p> "a\\tb" }',
    "long-string-raw-cr": 'INSERT DATA { <#x> <#p> """one\rtwo""" }',
    "long-string-hides-delete": 'INSERT DATA { <#x> <#p> """# x\r; DELETE WHERE { ?s ?p ?o }""" }',
    "escaped-quote-then-hash": 'INSERT DATA { <#x> <#p> "x\\"# y" }',
    "iri-with-fragment": 'INSERT DATA { <urn:x#frag> <#p> "1" }',
    "iri-uchar": 'INSERT DATA { <#x\\u0062> <#p> "1" }',
    "uchar-hash-outside-strings":
        'INSERT DATA { <#x> <#p> "1" } \\u0023 x\nINSERT DATA { <#y> <#p> "2" }',
    "iri-with-space": 'INSERT DATA { <#x y> <#p> "1" }',
    "iri-with-tab": 'INSERT DATA { <#x\ty> <#p> "1" }',
    "delete-then-insert-data": 'DELETE DATA { <#a> <#p> "1" } ; INSERT DATA { <#a> <#p> "9" }',
    "modify": "DELETE { ?s <#p> ?o } INSERT { ?s <#r> ?o } WHERE { ?s <#p> ?o }",
    "delete-where": "DELETE WHERE { <#c> ?p ?o }",
    "empty": "",
    "comment-only": "# nothing here",
    "language": 'INSERT DATA { <#x> <#p> "chat"@fr }',
    "typed": 'INSERT DATA { <#x> <#p> "01"^^<http://www.w3.org/2001/XMLSchema#integer> }',
    "base": 'BASE <http://other.example/> INSERT DATA { <#x> <#p> "1" }',
})


def by_rdflib(text: str, url: str) -> set[str] | None:
    """What rdflib's own SPARQL engine makes of ``text`` (``None``: it refuses it)."""
    graph = Graph().parse(data=START, format="turtle", publicID=url)
    try:
        parsed = parseUpdate(text)
        if parsed.request:
            evalUpdate(graph, translateUpdate(parsed, base=url))
    except Exception:
        return None
    return triples(graph.serialize(format="nt").encode(), url)


def by_oxigraph(text: str, url: str) -> set[str] | None:
    """What pyoxigraph's engine makes of ``text`` (``None``: it refuses it)."""
    store = ox.Store()
    store.extend(ox.Quad(*t) for t in ox.parse(START.encode(), ox.RdfFormat.TURTLE,
                                                 base_iri=url))
    try:
        store.update(text, base_iri=url)
    except SyntaxError:
        return None
    return {str(q.triple) for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}


def known_disagreement(text: str) -> str | None:
    """Why rdflib and pyoxigraph may read ``text`` differently, if it is a known reason."""
    if "\r" in text.replace("\r\n", "") and "#" in text:
        return "rdflib ends a comment only at LF; the SPARQL grammar also at a lone CR"
    if "\\u" in text:
        return "rdflib replaces \\u escapes before parsing (SPARQL §19.2), pyoxigraph in tokens"
    if "^^" in text:
        return "pyoxigraph stores the canonical form of a typed literal"
    return None


def test_differential_edge_cases(http, pub, base) -> None:
    """Every edge case through the live server, compared with rdflib's and pyoxigraph's
    reading: the server must do what rdflib (the parser whose reading it checks and runs)
    does — refusing what rdflib refuses — and where pyoxigraph reads the text differently
    the reason must be a known one, the lone-CR comment among them."""
    disagreements = {}
    for name, text in EDGE_CASES.items():
        path, url = new_doc(http, pub, base)
        expected = by_rdflib(text, url)
        r = http.patch(path, content=text.encode(), headers=SPARQL)
        got = stored(http, path, url)
        if expected is None:
            assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
            assert got == triples(START.encode(), url), name
        else:
            assert r.status_code == 204, (name, r.text)
            assert got == expected, name
        other = by_oxigraph(text, url)
        if other != expected:
            disagreements[name] = known_disagreement(text)
            assert disagreements[name], f"{name}: the parsers disagree for an unknown reason"
    assert "hides-delete/CR" in disagreements, "the audit's disagreement is among the cases"
