"""Bad input on the LDP path gets a clear 4xx and changes nothing (issue #9 §4)."""

from __future__ import annotations

import httpx
import pytest

SPARQL = {"content-type": "application/sparql-update"}


@pytest.mark.parametrize("path", ["/alice/%ff", "/pub/%ff%fe/x", "/pub/a/%c3", "/pub/%ED%A0%80",
                                  "/pub/x%00y", "/%ff/", "/pub/..%2f..%2fetc"])
def test_invalid_percent_escapes_in_paths_are_400(http, path) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE", "OPTIONS"):
        r = http.request(method, path, content=b"<#a> <#b> <#c>.",
                         headers={"content-type": "text/turtle"})
        assert r.status_code == 400, (method, path, r.status_code, r.text)
        if method != "OPTIONS":
            assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("body", [b"", b"# only a comment", b"  \n\t", b"PREFIX a: <urn:a:>"])
def test_an_update_without_operations_changes_nothing(http, pub, body) -> None:
    path = pub + "doc.ttl"
    assert http.put(path, content=b"<#a> <#b> <#c>.",
                    headers={"content-type": "text/turtle"}).status_code == 201
    before = http.get(path, headers={"accept": "application/n-triples"}).text
    r = http.patch(path, content=body, headers=SPARQL)
    assert r.status_code == 204, r.text  # a valid SPARQL Update (§3) with nothing to do
    assert http.get(path, headers={"accept": "application/n-triples"}).text == before


def nested(depth: int) -> bytes:
    return ('{"@context": {"@vocab": "http://example.org/"}, "@id": "#it", "p": '
            + '{"p": ' * depth + '"deep"' + "}" * depth + "}").encode()


@pytest.mark.parametrize("kind", ["context", "plain"])
@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_deeply_nested_json_ld_is_400(http: httpx.Client, pub, method, kind) -> None:
    body = nested(100_000) if kind == "plain" else nested(100_000).replace(
        b'{"@vocab": "http://example.org/"}', b'"https://www.w3.org/ns/credentials/v2"', 1)
    assert http.put(pub, headers={"content-type": "text/turtle"}).status_code == 201
    url = pub + "deep.jsonld" if method == "PUT" else pub
    r = http.request(method, url, content=body, headers={"content-type": "application/ld+json"})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert http.get(pub + "deep.jsonld").status_code == 404
    listing = http.get(pub, headers={"accept": "text/turtle"}).text
    assert "ldp:contains" not in listing


@pytest.mark.parametrize("body", [b"@", b"@prefix", b"{", b"_:p a", b"\x00"])
def test_malformed_n3_patches_get_a_plain_400(http, pub, body) -> None:
    path = pub + "doc.ttl"
    assert http.put(path, content=b"<#a> <#b> <#c>.",
                    headers={"content-type": "text/turtle"}).status_code == 201
    r = http.patch(path, content=body, headers={"content-type": "text/n3"})
    assert r.status_code == 400, r.text
    assert "index out of range" not in r.text
    assert http.get(path).content == b"<#a> <#b> <#c>."
