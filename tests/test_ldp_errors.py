"""Errors end to end: RFC 9457 problem documents (or a page for browsers), bad input that leaves
stored data exactly as it was, aborted uploads, and request paths that must never reach a
resource."""

from __future__ import annotations

import http.client as http_client
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

TTL = {"content-type": "text/turtle"}
DOC = b"@prefix ex: <http://example.org/ns#>.\n<#it> ex:name \"kept\".\n"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def base_url(server) -> str:
    return server.base


def snapshot(http: httpx.Client, path: str) -> tuple[int, bytes, str | None]:
    r = http.get(path, headers={"accept": "text/turtle"})
    return r.status_code, r.content, r.headers.get("etag")


def assert_problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == status
    for key in ("type", "title", "detail"):
        assert isinstance(problem[key], str) and problem[key], key
    return problem


def raw(server, method: str, target: str, body: bytes = b"",
        headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """A request whose target is sent exactly as given (httpx would normalise dot segments)."""
    conn = http_client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# --- problem documents -----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), [
    ("GET", "{pub}missing", {}, b"", 404),
    ("GET", "/no-such-pod/x", {}, b"", 404),
    ("PUT", "{pub}bad.ttl", TTL, b"<#a> <#b> .", 400),
    ("PUT", "{pub}doc.ttl/", TTL, b"", 409),  # beside the existing doc.ttl
    ("DELETE", "/pub/", {}, b"", 405),
    ("GET", "{pub}doc.ttl", {"accept": "image/png"}, b"", 406),
    ("PUT", "{pub}doc.ttl", {**TTL, "if-match": '"stale"'}, DOC, 412),
    ("PATCH", "{pub}doc.ttl", {"content-type": "application/json"}, b"{}", 415),
    ("GET", "/alice/", {}, b"", 401),
], ids=["404", "404-pod", "400", "409", "405", "406", "412", "415", "401"])
def test_errors_are_problem_documents(http, pub, method, path, headers, body, status):
    assert http.put(pub + "doc.ttl", content=DOC, headers=TTL).status_code == 201
    r = http.request(method, path.format(pub=pub), content=body,
                     headers={"accept": "application/json", **headers})
    problem = assert_problem(r, status)
    assert problem["title"].lower() != "internal server error"


def test_browsers_get_an_html_error_page(http, pub):
    # a browser's GET gets the pod browser's page: nothing there is a readable 404 page …
    r = http.get(pub + "missing", headers={"accept": BROWSER})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower() and "Nothing here" in r.text
    # … and a stranger is sent to sign in
    r = http.get("/alice/", headers={"accept": BROWSER})
    assert r.status_code == 303 and r.headers["location"].startswith("/.account/login?")
    # a client ranking HTML no higher than RDF gets the LDP edge's HTML error page
    r = http.get("/alice/", headers={"accept": "text/html, text/turtle"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower() and "401" in r.text
    assert "www-authenticate" in r.headers


def test_html_error_pages_escape_what_the_client_sent(server):
    status, body = raw(server, "GET", "/%3Cscript%3Ealert(1)%3C%2Fscript%3E/x",
                       headers={"Accept": BROWSER})
    assert status == 400
    assert b"<script>alert(1)" not in body
    assert b"&lt;script&gt;" in body


@pytest.mark.parametrize("method", ["PROPFIND", "TRACE", "MKCOL"])
def test_unknown_methods_are_405_with_allow(server, http, pub, method):
    assert http.put(pub + "doc.ttl", content=DOC, headers=TTL).status_code == 201
    conn = http_client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, pub + "doc.ttl")
        r = conn.getresponse()
        body = r.read()
        assert r.status == 405, body[:200]
        assert "GET" in (r.getheader("allow") or "")
        assert json.loads(body)["status"] == 405
    finally:
        conn.close()


def test_api_clients_get_json_not_html(http, pub):
    r = http.get(pub + "missing", headers={"accept": "application/json, text/html;q=0.5"})
    assert_problem(r, 404)


def test_method_not_allowed_on_server_paths_is_a_proper_problem(http):
    """A 405 is not an internal error, and it says what is allowed (RFC 9110 §15.5.6)."""
    r = http.put("/.well-known/solid", content=b"x", headers=TTL)
    problem = assert_problem(r, 405)
    assert problem["title"].lower() != "internal server error"
    assert not problem["type"].endswith("/internal")
    assert "GET" in r.headers.get("allow", "")


# --- bad input leaves stored data untouched ---------------------------------------------------


@pytest.mark.parametrize(("ctype", "body", "line", "column"), [
    ("text/turtle", b"@prefix ex: <http://example.org/ns#>.\n<#a> ex:p 1 .\n<#b> ex:p ] .\n",
     3, None),
    ("application/ld+json", b'{"@id": "#a",\n "http://example.org/ns#p": [ }', 2, None),
    ("application/n-triples", b"<http://a.example/s> <http://a.example/p> .\n", 1, None),
])
def test_invalid_rdf_over_a_resource_is_400_and_keeps_it(http, pub, ctype, body, line, column):
    assert http.put(pub + "doc", content=DOC, headers=TTL).status_code == 201
    before = snapshot(http, pub + "doc")
    r = http.put(pub + "doc", content=body, headers={"content-type": ctype})
    problem = assert_problem(r, 400)
    assert problem["line"] == line
    assert isinstance(problem["column"], int) and problem["column"] >= 1
    assert f"line {line}" in problem["detail"]
    assert snapshot(http, pub + "doc") == before


def test_invalid_rdf_creates_nothing(http, pub):
    r = http.put(pub + "sub/doc.ttl", content=b"<#a> <#b>", headers=TTL)
    assert_problem(r, 400)
    assert http.get(pub + "sub/doc.ttl").status_code == 404
    assert http.get(pub + "sub/").status_code == 404
    assert http.get(pub).status_code == 404


@pytest.mark.parametrize("method", ["PUT", "POST", "PATCH"])
def test_missing_content_type_is_400(http, pub, method):
    """Solid Protocol §2.1: PUT, POST and PATCH without Content-Type are rejected with 400."""
    assert http.put(pub + "doc", content=DOC, headers=TTL).status_code == 201
    before = snapshot(http, pub + "doc"), snapshot(http, pub)
    target = pub if method == "POST" else pub + "doc"
    r = http.request(method, target, content=b"INSERT DATA { <#a> <#b> <#c> }")
    assert_problem(r, 400)
    assert (snapshot(http, pub + "doc"), snapshot(http, pub)) == before


def test_non_rdf_body_for_a_container_is_415(http, pub):
    r = http.put(pub + "box/", content=b"\x00bytes", headers={
        "content-type": "application/octet-stream"})
    assert_problem(r, 415)
    assert http.get(pub + "box/").status_code == 404


@pytest.fixture
def context_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server offering a JSON-LD context; records every request it gets."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = json.dumps({"@context": {"name": "http://example.org/ns#name"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/context.jsonld", hits
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("existing", [False, True])
def test_json_ld_remote_context_is_refused_without_fetching(http, pub, context_server,
                                                            existing):
    context_url, hits = context_server
    if existing:
        assert http.put(pub + "doc.jsonld", content=DOC, headers=TTL).status_code == 201
    before = snapshot(http, pub + "doc.jsonld")
    body = json.dumps({"@context": context_url, "@id": "#it", "name": "remote"})
    r = http.put(pub + "doc.jsonld", content=body, headers={"content-type": "application/ld+json"})
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"].startswith("application/problem+json")
    assert hits == [], "the server fetched the remote context"
    assert snapshot(http, pub + "doc.jsonld") == before
    if not existing:
        assert before[0] == 404


def test_aborted_upload_changes_nothing(server, http, pub):
    assert http.put(pub + "doc", content=b"old content", headers={
        "content-type": "text/plain"}).status_code == 201
    before = http.get(pub + "doc")
    head = (f"PUT {pub}doc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            "Content-Length: 100000\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(head + b"n" * 30000)
        time.sleep(0.1)  # let the server start reading the body
    time.sleep(0.3)  # and notice the disconnect
    after = http.get(pub + "doc")
    assert after.status_code == 200
    assert after.content == b"old content"
    assert after.headers["etag"] == before.headers["etag"]
    assert http.get(pub + "doc").headers["last-modified"] == before.headers["last-modified"]


def test_aborted_upload_of_a_new_resource_creates_nothing(server, http, pub):
    assert http.put(pub, content=b"", headers=TTL).status_code == 201
    head = (f"PUT {pub}new HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
            "Content-Length: 100000\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(head + b"n" * 1000)
        time.sleep(0.1)
    time.sleep(0.3)
    assert http.get(pub + "new").status_code == 404


# --- paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tail", [
    "a/../b", "a/%2e%2e/b", "a/%2E%2E/b", "./b", "a//b", "a%2Fb", "a/%2f/b", "%2e", "a%00b",
])
def test_unsafe_paths_are_400(server, http, pub, tail):
    assert http.put(pub + "a/keep", content=DOC, headers=TTL).status_code == 201
    for method in ("GET", "PUT", "DELETE"):
        status, body = raw(server, method, pub + tail, DOC if method == "PUT" else b"",
                           {"Content-Type": "text/turtle"} if method == "PUT" else {})
        assert status == 400, (method, tail, body[:200])
        assert json.loads(body)["status"] == 400
    assert http.get(pub + "b").status_code == 404
    assert http.get(pub + "a/b").status_code == 404
    assert http.get(pub + "a/keep").status_code == 200


def test_paths_are_canonical(server, http, base_url, pub):
    """Two spellings of one name are one resource: %7E is ~, %41 is A (RFC 3986 §6.2.2.2)."""
    status, _ = raw(server, "PUT", pub + "a%7Eb%41%20c", DOC, {"Content-Type": "text/turtle"})
    assert status == 201
    for spelling in ("a~bA%20c", "a%7eb%41%20c", "%61~b%41%20c"):
        status, body = raw(server, "GET", pub + spelling)
        assert status == 200, spelling
        assert b"kept" in body
    listed = http.get(pub, headers={"accept": "application/n-triples"}).text
    assert listed.count("ldp#contains") == 1
    assert f"<{base_url}{pub.lstrip('/')}a~bA%20c>" in listed


@pytest.mark.parametrize("pod", ["Pub", "PUB", "pub_x", "-pub", "p%75b%2F"])
def test_bad_pod_names_are_400(server, pod):
    status, body = raw(server, "GET", f"/{pod}/x")
    assert status == 400, body[:200]
    status, body = raw(server, "PUT", f"/{pod}/x", DOC, {"Content-Type": "text/turtle"})
    assert status == 400, body[:200]


def test_server_paths_never_reach_a_pod(server, http, pub):
    assert http.put(pub + "f", content=DOC, headers=TTL).status_code == 201
    # a pod named like a server path is refused, and a server path is never a pod resource
    assert http.get("/well-known/solid").status_code == 400
    assert http.get("/." + pub.lstrip("/") + "f").status_code == 404
    status, _ = raw(server, "GET", "/.pub" + pub[len("/pub"):] + "f")
    assert status == 404
    described = http.get("/.well-known/solid")
    assert described.status_code == 200
    assert described.headers["content-type"].startswith("text/turtle")
    assert b"StorageDescription" in described.content
