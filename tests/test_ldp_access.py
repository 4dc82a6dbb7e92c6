"""Access control over HTTP (WAC): the private pod ``alice`` (owner-only except the public
profile), the publicly writable pod ``pub``, ACL edits that take effect on the very next request,
and access tokens (refused until the identity provider lands)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from pod import settings as config
from pod.resources.service import load
from pod.runtime import open_runtime

TTL = {"content-type": "text/turtle"}
DOC = b"<#it> <http://example.org/ns#name> \"x\".\n"


def wac_allow(resp: httpx.Response) -> dict[str, set[str]]:
    header = resp.headers["wac-allow"]
    return {k: set(v.split()) for k, v in re.findall(r'(\w+)\s*=\s*"([^"]*)"', header)}


def stored(server, pod: str, *paths: str) -> list[object]:
    """What the store holds at ``paths`` of ``pod`` (read beside the running server)."""
    async def read() -> list[object]:
        rt = await open_runtime(config.load({"data_dir": server.data_dir}))
        try:
            keys = await rt.pods.find(pod)
            async with rt.resources.store.read(keys) as reader:
                return [await load(reader, p) for p in paths]
        finally:
            await rt.close()
    return asyncio.run(read())


def assert_challenge(r: httpx.Response) -> None:
    assert r.status_code == 401, r.text
    assert r.headers.get("www-authenticate")
    assert r.headers["content-type"].startswith("application/problem+json")


# --- the private pod -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/alice/", "/alice/profile/", "/alice/profile/card.acl",
                                  "/alice/.acl", "/alice/anything"])
def test_anonymous_read_of_private_resources_is_401(http, path):
    assert_challenge(http.get(path))
    head = http.head(path)
    assert head.status_code == 401 and head.headers.get("www-authenticate")


def test_public_profile_is_readable(http, server):
    r = http.get("/alice/profile/card", headers={"accept": "text/turtle"})
    assert r.status_code == 200
    allowed = wac_allow(r)
    assert allowed["public"] == {"read"}
    assert allowed["user"] == {"read"}
    assert b"profile/card#me" in r.content
    assert f"<{server.base}alice/profile/card.acl>" in r.headers["link"]


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/alice/x"), ("PUT", "/alice/new/deep/x"), ("POST", "/alice/"),
    ("PATCH", "/alice/x"), ("PUT", "/alice/.acl"),
])
def test_anonymous_writes_to_private_pod_are_401_and_store_nothing(http, server, method, path):
    before_root, before_acl = stored(server, "alice", "/", "/.acl")
    body = DOC if method != "PATCH" else b"INSERT DATA { <#a> <#b> <#c> }"
    ctype = "application/sparql-update" if method == "PATCH" else "text/turtle"
    r = http.request(method, path, content=body, headers={"content-type": ctype, "slug": "y"})
    assert_challenge(r)
    root, x, y, deep, acl = stored(server, "alice", "/", "/x", "/y", "/new/", "/.acl")
    assert x is None and y is None and deep is None
    assert root.count == before_root.count and root.version == before_root.version
    assert acl.version == before_acl.version and acl.body == before_acl.body


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_anonymous_cannot_change_the_public_profile(http, method):
    before = http.get("/alice/profile/card")
    body = DOC if method == "PUT" else b"DELETE DATA { <#me> a <http://xmlns.com/foaf/0.1/Person> }"
    ctype = "application/sparql-update" if method == "PATCH" else "text/turtle"
    assert_challenge(http.request(method, "/alice/profile/card", content=body,
                                  headers={"content-type": ctype}))
    after = http.get("/alice/profile/card")
    assert after.content == before.content and after.headers["etag"] == before.headers["etag"]


# --- the public pod --------------------------------------------------------------------------


def test_public_pod_grants_everyone_write(http, pub):
    assert http.put(pub + "doc.ttl", content=DOC, headers=TTL).status_code == 201
    for path in (pub + "doc.ttl", pub, "/pub/"):
        allowed = wac_allow(http.get(path))
        assert {"read", "write", "append"} <= allowed["user"], path
        assert {"read", "write", "append"} <= allowed["public"], path


def test_acl_change_takes_effect_on_the_next_request(http, server, pub):
    assert http.put(pub + "open.ttl", content=DOC, headers=TTL).status_code == 201
    acl_url = re.search(r'<([^>]*)>;\s*rel="acl"', http.get(pub).headers["link"])[1]
    assert acl_url == server.base.rstrip("/") + pub + ".acl"
    read_only = b"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
@prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#public> a acl:Authorization; acl:agentClass foaf:Agent;
  acl:accessTo <./>; acl:default <./>; acl:mode acl:Read.
"""
    assert http.put(acl_url, content=read_only, headers=TTL).status_code == 201
    # the very next requests see the new rules
    assert_challenge(http.put(pub + "new.ttl", content=DOC, headers=TTL))
    assert_challenge(http.put(pub + "open.ttl", content=b"", headers=TTL))
    assert_challenge(http.post(pub, content=DOC, headers=TTL))
    assert_challenge(http.delete(pub + "open.ttl"))
    assert_challenge(http.put(acl_url, content=b"", headers=TTL))
    r = http.get(pub + "open.ttl")
    assert r.status_code == 200 and b"example.org" in r.content
    assert wac_allow(r)["public"] == {"read"}
    assert wac_allow(http.get(pub))["public"] == {"read"}
    assert http.get(pub + "new.ttl").status_code == 404
    # outside the container nothing changed
    assert wac_allow(http.get("/pub/"))["public"] >= {"write"}


def test_acl_for_one_document_only(http, pub):
    assert http.put(pub + "locked.ttl", content=DOC, headers=TTL).status_code == 201
    assert http.put(pub + "free.ttl", content=DOC, headers=TTL).status_code == 201
    acl = b"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
@prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#r> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <locked.ttl>;
  acl:mode acl:Read.
"""
    assert http.put(pub + "locked.ttl.acl", content=acl, headers=TTL).status_code == 201
    assert_challenge(http.put(pub + "locked.ttl", content=b"", headers=TTL))
    assert http.put(pub + "free.ttl", content=b"", headers=TTL).status_code == 204
    assert wac_allow(http.get(pub + "locked.ttl"))["public"] == {"read"}


def test_deleting_a_resource_deletes_its_acl(http, pub):
    """Rules for a deleted resource must not come back when the name is used again."""
    assert http.put(pub + "doc.ttl", content=DOC, headers=TTL).status_code == 201
    acl = b"""@prefix acl: <http://www.w3.org/ns/auth/acl#>.
@prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#rw> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <doc.ttl>;
  acl:mode acl:Read, acl:Write.
"""
    assert http.put(pub + "doc.ttl.acl", content=acl, headers=TTL).status_code == 201
    assert "control" not in wac_allow(http.get(pub + "doc.ttl"))["public"]
    assert http.delete(pub + "doc.ttl").status_code == 204
    assert http.put(pub + "doc.ttl", content=DOC, headers=TTL).status_code == 201
    assert http.get(pub + "doc.ttl.acl").status_code == 404
    assert "control" in wac_allow(http.get(pub + "doc.ttl"))["public"]


# --- access tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", ["Bearer abc.def.ghi", "DPoP abc.def.ghi", "Basic Zm9v"])
def test_access_tokens_are_refused(http, pub, authorization):
    assert http.put(pub + "doc.ttl", content=DOC, headers=TTL).status_code == 201
    assert_challenge(http.get(pub + "doc.ttl", headers={"authorization": authorization}))
    assert_challenge(http.put(pub + "other.ttl", content=DOC, headers={
        **TTL, "authorization": authorization}))
    assert http.get(pub + "other.ttl").status_code == 404
    assert http.get(pub + "doc.ttl").status_code == 200  # without the header
