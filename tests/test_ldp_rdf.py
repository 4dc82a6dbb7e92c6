"""Representations end to end: content negotiation between Turtle, JSON-LD and N-Triples,
non-RDF bodies stored byte-exact, the body size limit, and the headers that keep user content
from running as the server's own pages."""

from __future__ import annotations

import json
import random
import socket
import struct
import time
import zlib

import httpx
import pyoxigraph as ox
import pytest

from tests.conftest import cli

FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
}
DOC = """@prefix ex: <http://example.org/ns#>.
@prefix xsd: <http://www.w3.org/2001/XMLSchema#>.
<#it> a ex:Thing;
  ex:name "Straße"@de, "plain";
  ex:count 42;
  ex:ratio "0.5"^^xsd:decimal;
  ex:when "2024-05-01T10:00:00Z"^^xsd:dateTime;
  ex:see <other>, <http://example.org/elsewhere>;
  ex:note \"\"\"two
lines\"\"\".
<other> ex:back <#it>.
""".encode()
LIMIT = 25 * 1024 * 1024  # the default max_body_bytes


@pytest.fixture
def base(server) -> str:
    return server.base.rstrip("/")


def parsed(resp: httpx.Response, url: str) -> set[ox.Triple]:
    ctype = resp.headers["content-type"].split(";")[0].strip()
    return {q.triple for q in ox.parse(resp.content, FORMATS[ctype], base_iri=url)}


def turtle(text: bytes, url: str) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(text, ox.RdfFormat.TURTLE, base_iri=url)}


def tiny_png() -> bytes:
    """A valid 1×1 PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00\xff")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


def raw_exchange(server, request: bytes, chunks: list[bytes] | None = None,
                 timeout: float = 10) -> bytes:
    """Send ``request`` (and then ``chunks``, stopping if the server answers early) over a
    fresh socket and return the start of the response."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(request)
        try:
            for c in chunks or []:
                s.sendall(c)
        except OSError:
            pass  # the server answered and closed before the whole body was sent
        data = b""
        while b"\r\n\r\n" not in data:
            part = s.recv(65536)
            if not part:
                break
            data += part
        return data


# --- content negotiation ---------------------------------------------------------------------


def test_formats_of_a_document_carry_the_same_triples(http, base, pub):
    url = base + pub + "doc.ttl"
    assert http.put(pub + "doc.ttl", content=DOC,
                    headers={"content-type": "text/turtle"}).status_code == 201
    expected = turtle(DOC, url)
    for ctype in FORMATS:
        r = http.get(pub + "doc.ttl", headers={"accept": ctype})
        assert r.status_code == 200
        assert r.headers["content-type"].split(";")[0] == ctype
        assert parsed(r, url) == expected, ctype


def test_formats_of_a_container_carry_the_same_triples(http, base, pub):
    assert http.put(pub + "a.ttl", content=DOC, headers={"content-type": "text/turtle"}
                    ).status_code == 201
    assert http.put(pub + "sub/b.ttl", content=DOC, headers={"content-type": "text/turtle"}
                    ).status_code == 201
    url = base + pub
    graphs = {}
    for ctype in FORMATS:
        r = http.get(pub, headers={"accept": ctype})
        assert r.status_code == 200
        assert r.headers["content-type"].split(";")[0] == ctype
        graphs[ctype] = parsed(r, url)
    assert graphs["text/turtle"] == graphs["application/ld+json"] == \
        graphs["application/n-triples"]
    contains = ox.NamedNode("http://www.w3.org/ns/ldp#contains")
    assert {t.object.value for t in graphs["text/turtle"] if t.predicate == contains} == {
        url + "a.ttl", url + "sub/"}


@pytest.mark.parametrize("ctype", ["application/ld+json", "application/n-triples"])
def test_rdf_bodies_in_any_syntax_are_stored_as_the_same_triples(http, base, pub, ctype):
    url = base + pub + "doc"
    expected = turtle(DOC, url)
    body = ox.serialize(expected, format=FORMATS[ctype])
    assert http.put(pub + "doc", content=body, headers={"content-type": ctype}
                    ).status_code == 201
    for accept in FORMATS:
        r = http.get(pub + "doc", headers={"accept": accept})
        assert r.status_code == 200
        assert parsed(r, url) == expected


def test_json_ld_with_an_inline_context_is_accepted(http, base, pub):
    url = base + pub + "doc.jsonld"
    body = json.dumps({"@context": {"name": "http://example.org/ns#name"},
                       "@id": "#it", "name": "inline"})
    assert http.put(pub + "doc.jsonld", content=body,
                    headers={"content-type": "application/ld+json"}).status_code == 201
    r = http.get(pub + "doc.jsonld", headers={"accept": "text/turtle"})
    assert parsed(r, url) == {ox.Triple(ox.NamedNode(url + "#it"),
                                        ox.NamedNode("http://example.org/ns#name"),
                                        ox.Literal("inline"))}


@pytest.mark.parametrize(("accept", "chosen"), [
    ("application/ld+json;q=0.9, text/turtle;q=0.5", "application/ld+json"),
    ("text/turtle;q=0.5, application/ld+json;q=0.9", "application/ld+json"),
    ("text/turtle;q=0.2, application/n-triples;q=0.8, application/ld+json;q=0.4",
     "application/n-triples"),
    ("application/ld+json;q=0, */*;q=0.1", "text/turtle|application/n-triples"),
    ("text/turtle, application/ld+json;q=0.9", "text/turtle"),
])
def test_q_values_are_honoured(http, pub, accept, chosen):
    assert http.put(pub + "doc.ttl", content=DOC, headers={"content-type": "text/turtle"}
                    ).status_code == 201
    r = http.get(pub + "doc.ttl", headers={"accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] in chosen.split("|")
    assert "accept" in {v.strip().lower() for v in r.headers.get("vary", "").split(",")}


@pytest.mark.parametrize("accept", ["image/png", "text/turtle;q=0, application/ld+json;q=0, "
                                    "application/n-triples;q=0"])
def test_nothing_acceptable_is_406(http, pub, accept):
    assert http.put(pub + "doc.ttl", content=DOC, headers={"content-type": "text/turtle"}
                    ).status_code == 201
    r = http.get(pub + "doc.ttl", headers={"accept": accept})
    assert r.status_code == 406
    assert r.headers["content-type"].startswith("application/problem+json")


# --- non-RDF sources -------------------------------------------------------------------------


# ids name the file only: a test's id must be the same in every xdist worker, and pytest's id
# for a bytes value depends on its version (the full escaped bytes, or `body0`)
@pytest.mark.parametrize(("name", "ctype", "body"), [
    ("random.bin", "application/octet-stream", random.Random(1164).randbytes(256 * 1024)),
    ("pixel.png", "image/png", tiny_png()),
    ("lines.txt", "text/plain", b"\nleading newline\r\n{\"k\":\"not json\"}\n\x00\n"),
    ("empty.bin", "application/octet-stream", b""),
], ids=["random.bin", "pixel.png", "lines.txt", "empty.bin"])
def test_non_rdf_bodies_are_served_byte_exact(http, pub, name, ctype, body):
    assert http.put(pub + name, content=body, headers={"content-type": ctype}).status_code == 201
    r = http.get(pub + name)
    assert r.status_code == 200
    assert r.headers["content-type"] == ctype
    assert r.content == body
    assert int(r.headers["content-length"]) == len(body)
    head = http.head(pub + name)
    assert head.headers["content-type"] == ctype
    assert int(head.headers["content-length"]) == len(body)


def test_post_of_a_non_rdf_body(http, pub):
    assert http.put(pub, content=b"", headers={"content-type": "text/turtle"}).status_code == 201
    body = tiny_png()
    r = http.post(pub, content=body, headers={"content-type": "image/png", "slug": "p.png"})
    assert r.status_code == 201
    got = http.get(r.headers["location"])
    assert got.content == body and got.headers["content-type"] == "image/png"


def test_non_rdf_content_type_parameters_are_kept(http, pub):
    """The charset of a text upload is part of its media type (RFC 9110 §8.3): serving
    Latin-1 bytes without it makes clients decode them wrongly."""
    body = "Grüße".encode("latin-1")
    ctype = "text/plain; charset=iso-8859-1"
    assert http.put(pub + "latin.txt", content=body, headers={"content-type": ctype}
                    ).status_code == 201
    r = http.get(pub + "latin.txt")
    assert r.content == body
    assert r.headers["content-type"].replace(" ", "").lower() == "text/plain;charset=iso-8859-1"


def test_rdf_replaced_by_non_rdf_is_served_as_non_rdf(http, pub):
    assert http.put(pub + "doc", content=DOC, headers={"content-type": "text/turtle"}
                    ).status_code == 201
    assert http.put(pub + "doc", content=b"now bytes", headers={
        "content-type": "application/octet-stream"}).status_code == 204
    r = http.get(pub + "doc")
    assert r.content == b"now bytes"
    assert r.headers["content-type"] == "application/octet-stream"
    assert "NonRDFSource" in r.headers["link"]


# --- size limit ------------------------------------------------------------------------------


def test_declared_body_over_the_limit_is_413_at_once(server, http, pub):
    assert http.put(pub, content=b"", headers={"content-type": "text/turtle"}).status_code == 201
    started = time.monotonic()
    head = (f"PUT {pub}big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {26 * 1024 * 1024}\r\n"
            "\r\n").encode()
    answer = raw_exchange(server, head)  # no body at all: the server must not wait for it
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3
    assert http.get(pub + "big").status_code == 404


def test_streamed_body_over_the_limit_is_413(server, http, pub):
    assert http.put(pub, content=b"", headers={"content-type": "text/turtle"}).status_code == 201
    mib = b"\0" * (1 << 20)
    chunk = f"{len(mib):x}\r\n".encode() + mib + b"\r\n"
    head = (f"PUT {pub}big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            ).encode()
    answer = raw_exchange(server, head, [chunk] * (LIMIT // len(mib) + 2))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert http.get(pub + "big").status_code == 404


# --- user content is not the server's own page -------------------------------------------------


@pytest.mark.parametrize(("name", "ctype", "body"), [
    ("page.html", "text/html", b"<!doctype html><script>fetch('/alice/')</script>"),
    ("pic.svg", "image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"),
    ("doc.ttl", "text/turtle", b"<#a> <#b> <#c>."),
])
def test_user_content_is_sandboxed(http, pub, name, ctype, body):
    assert http.put(pub + name, content=body, headers={"content-type": ctype}).status_code == 201
    r = http.get(pub + name)
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    policy = [d.strip().split()[0] for d in r.headers["content-security-policy"].split(";")
              if d.strip()]
    assert "sandbox" in policy
    assert r.headers["content-type"].split(";")[0] == ctype


def _signed_credential() -> bytes:
    from nacl.signing import SigningKey

    from apps.sdk.statements.credentials import sign
    from apps.sdk.statements.multikey import did_key, did_key_vm
    seed = bytes(range(32))
    issuer = did_key(bytes(SigningKey(seed).verify_key))
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:5f0d2d4e-8a44-4b7e-9d0e-0c5e3c1b2a10",
        "type": ["VerifiableCredential"], "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://pods.example/amara/profile/card#me",
                              "name": "Amara"}}
    signed = sign(credential, private_key=seed, verification_method=did_key_vm(
        bytes(SigningKey(seed).verify_key)))
    return json.dumps(signed, indent=1).encode()


def test_a_signed_credential_is_kept_byte_exact_and_still_verifies(server, http, base, pub):
    """JSON-LD naming a bundled context is read without any fetch; the document is kept as
    sent, so its proof (a named graph) and signature survive the round trip."""
    body = _signed_credential()
    assert http.put(pub + "vc.json", content=body,
                    headers={"content-type": "application/ld+json"}).status_code == 201
    r = http.get(pub + "vc.json", headers={"accept": "application/ld+json"})
    assert r.content == body
    verdict = cli("vc", "verify", base + pub + "vc.json", data_dir=server.data_dir)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    r = http.get(pub + "vc.json", headers={"accept": "text/turtle"})
    triples = parsed(r, base + pub + "vc.json")
    subject = ox.NamedNode("urn:uuid:5f0d2d4e-8a44-4b7e-9d0e-0c5e3c1b2a10")
    assert ox.Triple(subject, ox.NamedNode("https://www.w3.org/2018/credentials#issuer"),
                     ox.NamedNode(json.loads(body)["issuer"])) in triples
    assert not any("proofValue" in t.predicate.value for t in triples)  # the proof's graph


def test_a_context_url_that_is_not_bundled_is_named_in_the_error(http, pub):
    body = json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2",
                                    "https://example.org/my-context.jsonld"],
                       "type": ["VerifiableCredential"]})
    r = http.put(pub + "odd.json", content=body,
                 headers={"content-type": "application/ld+json"})
    assert r.status_code == 400
    assert "https://example.org/my-context.jsonld" in r.json()["detail"]
    assert http.get(pub + "odd.json").status_code == 404
