"""Creating a resource needs Append (or Write) on the container that receives the new member —
the nearest existing one when intermediate containers are created too (issue #9 §3; WAC §5,
Solid Protocol §5.3). A permission table through a live server."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.dpop import DPoPClient

TURTLE = {"content-type": "text/turtle"}
N3_INSERT = (b"@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
             b"_:p a solid:InsertDeletePatch; solid:inserts { <#it> <#p> 1 }.")
SPARQL_INSERT = b"INSERT DATA { <#it> <#p> 1 }"
ACL = """@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#owner> a acl:Authorization; acl:agent <{keeper}>; acl:accessTo <./>; acl:default <./>;
  acl:mode acl:Read, acl:Write, acl:Control.
<#users> a acl:Authorization; acl:agentClass acl:AuthenticatedAgent; acl:default <./>;
  acl:mode acl:Append, acl:Read.
"""


@pytest.fixture(scope="module")
def world(server) -> dict[str, object]:
    """``shared/`` (users: default Append and Read, not on shared/ itself) with an existing
    sub-container ``open/``; ``bob`` is an ordinary signed-in user."""
    keeper = DPoPClient(server.base, server.create_account(f"k{uuid.uuid4().hex[:8]}"))
    bob = DPoPClient(server.base, server.create_account(f"b{uuid.uuid4().hex[:8]}"))
    shared = f"{server.base}pub/shared-{uuid.uuid4().hex[:8]}/"
    with httpx.Client() as http:
        assert http.put(shared, headers=TURTLE).status_code == 201
        assert http.put(shared + "open/", headers=TURTLE).status_code == 201
        acl = ACL.format(keeper=keeper.who["webid"]).encode()
        assert http.put(shared + ".acl", content=acl, headers=TURTLE).status_code == 201
    return {"bob": bob, "keeper": keeper, "shared": shared}


def request(client: DPoPClient, method: str, url: str) -> httpx.Response:
    if method == "PUT":
        return client.request("PUT", url, content=b"<#it> <#p> 1.", headers=TURTLE)
    if method == "POST":
        return client.request("POST", url, content=b"<#it> <#p> 1.", headers=TURTLE)
    body, ctype = (N3_INSERT, "text/n3") if method == "PATCH-N3" else (
        SPARQL_INSERT, "application/sparql-update")
    return client.request("PATCH", url, content=body, headers={"content-type": ctype})


TABLE = [
    # method, path under shared/, expected status, why
    ("PATCH-N3", "new.ttl", 403, "shared/ receives it: users hold no Append on shared/ itself"),
    ("PATCH-SPARQL", "new.ttl", 403, "the same through SPARQL Update"),
    ("PUT", "new.ttl", 403, "the same through PUT"),
    ("PATCH-N3", "sub/new.ttl", 403, "creating sub/ adds a member to shared/"),
    ("PATCH-SPARQL", "sub/new.ttl", 403, "the audit's case, through SPARQL Update"),
    ("PUT", "sub/new.ttl", 403, "creating sub/ through PUT"),
    ("PUT", "sub/deeper/new.ttl", 403, "two missing levels: shared/ still receives"),
    ("PUT", "sub/", 403, "a new container directly"),
    ("POST", "sub/", 404, "POST needs the container to exist"),
    ("PATCH-N3", "open/new.ttl", 201, "open/ exists and inherits default Append"),
    ("PUT", "open/new2.ttl", 403, "PUT needs Write on the new resource, not only Append"),
    ("POST", "open/", 201, "POST into an existing container with Append"),
    ("PATCH-SPARQL", "open/sub/new.ttl", 201, "open/ is the nearest existing container"),
]


@pytest.mark.parametrize(("method", "path", "status", "why"), TABLE,
                         ids=[f"{m} {p}" for m, p, _, _ in TABLE])
def test_creation_needs_append_on_the_receiving_container(world, method, path, status, why):
    bob, keeper, shared = world["bob"], world["keeper"], world["shared"]
    assert isinstance(bob, DPoPClient) and isinstance(keeper, DPoPClient)
    url = f"{shared}{path}"
    before = keeper.request("GET", str(shared), headers={"accept": "text/turtle"}).text
    r = request(bob, method, url)
    assert r.status_code == status, f"{why}: {r.status_code} {r.text}"
    if status >= 400:
        after = keeper.request("GET", str(shared), headers={"accept": "text/turtle"}).text
        assert after == before, "the container's members are unchanged"
        assert keeper.request("GET", url).status_code == 404
