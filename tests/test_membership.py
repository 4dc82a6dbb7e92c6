"""Large containers: membership spread over pages stays exact through growth and deletion."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pyoxigraph as ox

from tests.conftest import Server

CONTAINS = ox.NamedNode("http://www.w3.org/ns/ldp#contains")


def _members(c: httpx.Client, url: str) -> list[str]:
    r = c.get(url, headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    return [t.object.value for t in ox.parse(r.content, ox.RdfFormat.TURTLE, base_iri=url)
            if t.predicate == CONTAINS]


def test_a_container_of_1200_members_lists_each_exactly_once(server: Server, pub: str) -> None:
    url = server.base + pub[1:]
    names = [f"m{i}.ttl" for i in range(1200)] + [f"sub{i}/" for i in range(5)]
    with httpx.Client(timeout=30) as c:
        def put(name: str) -> int:
            return c.put(url + name, content=b"<#a> <#b> <#c>.",
                         headers={"Content-Type": "text/turtle"}).status_code
        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(put, names)) == {201}
        listed = _members(c, url)
        assert sorted(listed) == sorted(url + n for n in names)
        etag = c.head(url).headers["etag"]
        for name in names[:300]:
            assert c.delete(url + name).status_code == 204
        listed = _members(c, url)
        assert sorted(listed) == sorted(url + n for n in names[300:])
        assert c.head(url).headers["etag"] != etag
        assert c.delete(url).status_code == 409  # still not empty
        triples = c.get(url, headers={"Accept": "application/n-triples"}).content
        assert triples.count(b"<http://www.w3.org/ns/ldp#contains>") == len(names) - 300
