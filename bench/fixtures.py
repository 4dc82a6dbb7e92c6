"""What the benchmark puts on each server before the load, the rows it measures, and the
checks afterwards that nothing written under load was lost.

The DPoP rows work in an account's pod, which only its owner may read and write: seeding and
checking there take an `Auth`, which gives the credential headers for each request. On Commonpod
a second account reads that pod through an access grant the owner PUTs into its `grants/`, and
every such read lands in the owner's access log, which the checks read back.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from servers import BenchError, http_request
from workload import VALUE, LoadResult, Row

Auth = Callable[[str, str], dict[str, str]]  # (method, URL) -> headers that authenticate it

MARKER = "commonpod-bench-marker"  # a literal every seeded document carries
TARGETS = 4  # PUT and PATCH spread their requests over this many resources
PATCH_VALUE_CYCLE = 50  # each PATCH target receives at most this many distinct triples
SEED_CONCURRENCY = 10
TURTLE = "text/turtle"
GRANT_ROW = "GET Turtle (DPoP, via grant)"
GRANT_BASELINE = "GET Turtle (DPoP)"  # the same request by the pod's owner
GRANT_PATH = "grants/bench-grant"  # under the owner's pod
LOG_LIMIT = 5

PATCH_BODY = (
    "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
    "_:patch a solid:InsertDeletePatch;\n"
    f'  solid:inserts {{ <#it> <http://example.org/ns#patched> "patch-{VALUE}" }}.\n'
)


@dataclass(frozen=True)
class Layout:
    """The URLs the benchmark uses under a server's writable container."""

    base: str
    children: int

    @property
    def doc(self) -> str:
        """The ~20-triple document that GET and HEAD read."""
        return self.base + "doc.ttl"

    @property
    def put_targets(self) -> list[str]:
        """The documents PUT overwrites in turn."""
        return [f"{self.base}put-{i}.ttl" for i in range(TARGETS)]

    @property
    def patch_targets(self) -> list[str]:
        """The documents PATCH inserts into in turn."""
        return [f"{self.base}patch-{i}.ttl" for i in range(TARGETS)]

    @property
    def posts(self) -> str:
        """The container POST creates resources in."""
        return self.base + "posts/"

    @property
    def listing(self) -> str:
        """The container with `children` children."""
        return self.base + "list/"

    def child(self, index: int) -> str:
        """The URL of the listing container's child number `index`."""
        return f"{self.listing}item-{index:05d}.ttl"


def layout_for(root: str, children: int) -> Layout:
    """The layout under `root` (a writable container URL ending in /)."""
    return Layout(base=root + "bench/", children=children)


def document(name: str) -> str:
    """A Turtle document of 20 triples about one person, carrying MARKER."""
    fields = "".join(f';\n    ex:field{i} "value {i} of {name}"' for i in range(1, 17))
    return (
        "@prefix ex: <http://example.org/ns#>.\n"
        "@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n\n"
        f'<#it> a foaf:Person;\n    foaf:name "{name}";\n    ex:marker "{MARKER}";\n'
        f"    foaf:knows <#friend>{fields}.\n"
    )


def child_document(index: int) -> str:
    """A small Turtle document for one child of the listing container."""
    return f"<#it> a <http://example.org/ns#Item>; <http://example.org/ns#index> {index}.\n"


def rows(layout: Layout) -> list[Row]:
    """The measured operations, in the order they run."""
    accept_turtle = (("Accept", TURTLE),)
    body = document("bench")
    return [
        Row("GET Turtle", "GET", _paths([layout.doc]), accept_turtle),
        Row("GET JSON-LD", "GET", _paths([layout.doc]), (("Accept", "application/ld+json"),)),
        Row("HEAD", "HEAD", _paths([layout.doc]), accept_turtle),
        Row("PUT", "PUT", _paths(layout.put_targets), (("Content-Type", TURTLE),), body),
        Row("POST", "POST", _paths([layout.posts]), (("Content-Type", TURTLE),), body, slug=True),
        Row(
            "PATCH (N3)",
            "PATCH",
            _paths(layout.patch_targets),
            (("Content-Type", "text/n3"),),
            PATCH_BODY,
            value_cycle=PATCH_VALUE_CYCLE,
        ),
        Row(
            f"GET container ({layout.children:,} children)",
            "GET",
            _paths([layout.listing]),
            accept_turtle,
        ),
    ]


def dpop_rows(layout: Layout) -> list[Row]:
    """The authenticated rows (in an account's pod), in the order they run after the others;
    each names the row without credentials whose rate sizes its table of proofs."""
    accept_turtle = (("Accept", TURTLE),)
    body = document("bench")
    return [
        Row(
            "GET Turtle (DPoP)",
            "GET",
            _paths([layout.doc]),
            accept_turtle,
            dpop=True,
            baseline="GET Turtle",
        ),
        Row(
            "PUT (DPoP)",
            "PUT",
            _paths(layout.put_targets),
            (("Content-Type", TURTLE),),
            body,
            dpop=True,
            baseline="PUT",
        ),
    ]


def grant_rows(layout: Layout) -> list[Row]:
    """The row run with another account's credentials, which reaches the owner's pod only
    through an access grant: the same GET as GRANT_BASELINE, each request also checking the
    grant and writing an access-log record."""
    return [
        Row(
            GRANT_ROW,
            "GET",
            _paths([layout.doc]),
            (("Accept", TURTLE),),
            dpop=True,
            baseline=GRANT_BASELINE,
        )
    ]


def grant_document(owner: str, grantee: str, target: str) -> str:
    """A cp:AccessGrant (vocab/shapes.ttl) from `owner` to the WebID `grantee`: read access
    to the container `target`, for dpv:ServiceProvision, until 2099."""
    return (
        "@prefix cp: <https://commonpod.org/ns#> .\n"
        "@prefix odrl: <http://www.w3.org/ns/odrl/2/> .\n"
        "@prefix dpv: <https://w3id.org/dpv#> .\n"
        "@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n\n"
        "<#it> a cp:AccessGrant, odrl:Agreement ;\n"
        "    odrl:uid <#it> ;\n"
        f"    odrl:assigner <{owner}> ;\n"
        f"    odrl:assignee <{grantee}> ;\n"
        "    dpv:hasLegalBasis dpv:Consent ;\n"
        "    dpv:hasConsentStatus dpv:ConsentGiven ;\n"
        '    dcterms:issued "2026-01-01T00:00:00Z"^^xsd:dateTime ;\n'
        "    odrl:permission [\n"
        f"        odrl:target <{target}> ;\n"
        "        odrl:action odrl:read ;\n"
        "        odrl:constraint [\n"
        "            odrl:leftOperand odrl:purpose ; odrl:operator odrl:eq ;\n"
        "            odrl:rightOperand dpv:ServiceProvision\n"
        "        ], [\n"
        "            odrl:leftOperand odrl:dateTime ; odrl:operator odrl:lt ;\n"
        '            odrl:rightOperand "2099-01-01T00:00:00Z"^^xsd:dateTime\n'
        "        ]\n"
        "    ] .\n"
    )


def give_grant(pod: str, layout: Layout, owner: tuple[str, Auth], grantee: tuple[str, Auth]) -> str:
    """As the owner of `pod` (WebID, auth), PUT a grant to the grantee's WebID for the
    container of `layout.doc` into `{pod}grants/bench-grant`; then make sure the grantee can
    read `layout.doc`. The grant's URL; BenchError if either step fails."""
    url = pod + GRANT_PATH
    body = grant_document(owner[0], grantee[0], layout.base)
    headers = {"Content-Type": TURTLE, **owner[1]("PUT", url)}
    status, answer = http_request("PUT", url, headers, body.encode())
    if not 200 <= status < 300:
        raise BenchError(f"PUT of the access grant {url} -> {status}: {answer[:500]!r}")
    status, text = fetch(layout.doc, auth=grantee[1])
    if status != 200 or MARKER not in text:
        raise BenchError(
            f"{grantee[0]} cannot read {layout.doc} through the grant {url}: {status} "
            f"{text[:300]!r}"
        )
    return url


def check_log(base: str, pod_name: str, owner: Auth, agent: str | None = None) -> list[dict]:
    """The newest records of the access log of `pod_name` (`{base}.api/log`, as its owner;
    with `agent`, only that agent's); BenchError unless the answer is 200 with records."""
    url = f"{base}.api/log?pod={quote(pod_name, safe='')}&limit={LOG_LIMIT}"
    if agent:
        url += "&agent=" + quote(agent, safe="")
    status, text = fetch(url, "application/json", owner)
    try:
        records = json.loads(text)["records"]
    except (ValueError, KeyError, TypeError):
        records = None
    if status != 200 or not isinstance(records, list) or not records:
        raise BenchError(f"the access log holds no records: GET {url} -> {status}: {text[:500]}")
    return records


def seed(layout: Layout) -> float:
    """Create everything the rows need; returns the seconds it took to PUT the children."""
    singles = [(layout.doc, document("doc"))]
    singles += [
        (url, document(urlsplit(url).path)) for url in layout.put_targets + layout.patch_targets
    ]
    singles.append((layout.posts + "seed.ttl", document("post seed")))
    _put_all(singles)
    started = time.perf_counter()
    _put_all((layout.child(i), child_document(i)) for i in range(layout.children))
    return time.perf_counter() - started


def seed_private(layout: Layout, auth: Auth) -> None:
    """Create what the DPoP rows need in an account's pod, with authenticated PUTs."""
    singles = [(layout.doc, document("doc"))]
    singles += [(url, document(urlsplit(url).path)) for url in layout.put_targets]
    _put_all(singles, auth)


def check_writes(layout: Layout, post_result: LoadResult, post_tag: str) -> list[str]:
    """Problems with what PUT, PATCH and POST wrote under load (an empty list: none)."""
    problems = _read_back(layout.put_targets + layout.patch_targets)
    created = post_result.statuses.get(201, 0)
    status, text = fetch(layout.posts)
    listed = len(set(re.findall(re.escape(post_tag) + r"-\d+", text)))
    if status != 200 or listed < created:
        problems.append(f"POST: {created} answered 201 but the container lists {listed} of them")
    return problems


def check_private(layout: Layout, auth: Auth) -> list[str]:
    """Problems with what the DPoP PUT row wrote in an account's pod (an empty list: none)."""
    return _read_back(layout.put_targets, auth)


def fetch(url: str, accept: str = TURTLE, auth: Auth | None = None) -> tuple[int, str]:
    """GET `url` (authenticated by `auth`, if given); its status and body text."""
    headers = {"Accept": accept, **(auth("GET", url) if auth else {})}
    status, body = http_request("GET", url, headers)
    return status, body.decode("utf-8", errors="replace")


def _read_back(urls: list[str], auth: Auth | None = None) -> list[str]:
    """Each of `urls` that does not read back with status 200 and the seeded marker."""
    problems = []
    for url in urls:
        status, text = fetch(url, auth=auth)
        if status != 200 or MARKER not in text:
            problems.append(f"{urlsplit(url).path} reads back {status} with {len(text)} bytes")
    return problems


def _paths(urls: Iterable[str]) -> tuple[str, ...]:
    """The path parts of `urls`, as wrk wants them."""
    return tuple(urlsplit(url).path for url in urls)


def _put_all(items: Iterable[tuple[str, str]], auth: Auth | None = None) -> None:
    """PUT each (url, Turtle) with a few concurrent connections (authenticated by `auth`, if
    given); raise on any non-2xx."""

    def put(item: tuple[str, str]) -> str | None:
        headers = {"Content-Type": TURTLE, **(auth("PUT", item[0]) if auth else {})}
        status, body = http_request("PUT", item[0], headers, item[1].encode())
        return None if 200 <= status < 300 else f"PUT {item[0]} -> {status}: {body[:300]!r}"

    with ThreadPoolExecutor(SEED_CONCURRENCY) as pool:
        failures = [f for f in pool.map(put, items) if f]
    if failures:
        raise BenchError(
            f"seeding failed for {len(failures)} resources, e.g.\n" + "\n".join(failures[:3])
        )
