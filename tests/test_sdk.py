"""The SDK (apps/sdk) against a live server: importing it alone, signing in with a client
credential, discovery, reading and writing with ETags, RDF and typed records in and out, the
bulk read, the typed error tree, token renewal and the synchronous wrapper."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import pyoxigraph as ox
import pytest

from apps.sdk import (
    Appreciation,
    Contribution,
    Effort,
    Forbidden,
    Graph,
    N3Patch,
    NotFound,
    OAuthError,
    PodClient,
    PreconditionFailed,
    Session,
    ShapeViolation,
    SyncPodClient,
    Unauthenticated,
    client_credentials,
)
from apps.sdk.errors import Conflict
from tests.conftest import ROOT, Server
from tests.test_accounts import unique

T = TypeVar("T")
CP = "https://commonpod.org/ns#"


def run(work: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(work())


@pytest.fixture(scope="module")
def amara(server: Server) -> dict[str, str]:
    return server.create_account(unique("sdk"))


async def login(who: dict[str, str], **kw: Any) -> Session:
    return await client_credentials(who["issuer"], who["client_id"], who["client_secret"], **kw)


def contribution(who: dict[str, str], n: int = 1, **changes: Any) -> Contribution:
    fields: dict[str, Any] = dict(
        provider=who["webid"], name=f"Repaired toaster {n}",
        in_scope_of=("https://riverside.example/#community",), kinds=("cp:CareWork",),
        when=datetime(2025, 5, n, 10, tzinfo=UTC), effort=Effort(Decimal("1.5")),
        evidence=("https://riverside.example/notes/1",), language="en")
    return Contribution(**(fields | changes))


def test_importing_the_sdk_imports_neither_the_server_nor_a_web_framework() -> None:
    code = ("import sys, apps.sdk, apps.sdk.statements\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('pod', 'auth', 'fastapi', 'starlette', 'uvicorn'))\n"
            "print(bad)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_client_credentials_sign_in_as_the_accounts_webid(amara: dict[str, str]) -> None:
    session = run(lambda: login(amara))
    assert session.webid == amara["webid"]
    assert session.access_token not in repr(session)  # printing a session shows no secret
    assert session.issuer.issuer == amara["issuer"]
    assert 0 < session.expires_in <= 300

    async def refused() -> None:
        await client_credentials(amara["issuer"], amara["client_id"], "not the secret")

    with pytest.raises(OAuthError) as caught:
        run(refused)
    assert caught.value.error == "invalid_client" and caught.value.status == 401


def test_discovery_from_a_webid(amara: dict[str, str]) -> None:
    async def work() -> tuple[Any, ...]:
        async with PodClient(await login(amara)) as pod:
            profile = await pod.profile(amara["webid"])
            index = await pod.type_index(amara["webid"])
            config = await pod.issuer(profile.issuers[0])
        async with PodClient() as anonymous:  # the private type index is the owner's
            public = await anonymous.type_index(amara["webid"], private=False)
        return profile, index, config, public

    profile, index, config, public = run(work)
    assert profile.issuers == (amara["issuer"],) and profile.storage == amara["pod"]
    assert profile.public_type_index == amara["pod"] + "settings/publicTypeIndex.ttl"
    found = {(r.cls, r.container) for r in index}
    assert (CP + "Contribution", amara["pod"] + "contributions/") in found
    assert public == []  # a new pod registers everything privately
    assert config.token_endpoint == amara["issuer"] + ".oidc/token"
    assert config.authorization_endpoint == amara["issuer"] + ".oidc/auth"


def test_records_round_trip_through_a_pod_with_etags(amara: dict[str, str]) -> None:
    written = contribution(amara, 1, description="The wobbly one.")

    async def work() -> dict[str, Any]:
        async with PodClient(await login(amara)) as pod:
            made = await pod.post(amara["pod"] + "contributions/", written, slug="toaster")
            got = await pod.get(made.location)
            unchanged = await pod.get(made.location, if_none_match=got.etag)
            read = Contribution.from_graph(got.graph(), made.location + "#it")
            # a stale ETag changes nothing; the current one replaces
            stale = None
            try:
                await pod.put(made.location, contribution(amara, 2), if_match='"stale"')
            except PreconditionFailed as exc:
                stale = exc
            after_stale = await pod.get(made.location)
            replaced = await pod.put(made.location, contribution(amara, 2), if_match=got.etag)
            created_only = None
            try:
                await pod.put(made.location, contribution(amara, 3), if_none_match="*")
            except PreconditionFailed as exc:
                created_only = exc
            head = await pod.head(made.location)
            return dict(made=made, got=got, unchanged=unchanged, read=read, stale=stale,
                        after_stale=after_stale, replaced=replaced, head=head,
                        created_only=created_only,
                        final=Contribution.from_graph(await pod.graph(made.location),
                                                      made.location + "#it"))

    r = run(work)
    assert r["made"].status == 201 and r["made"].location == \
        amara["pod"] + "contributions/toaster"
    assert r["got"].etag and r["unchanged"].status == 304 and r["unchanged"].body == b""
    assert r["read"] == Contribution(**{**written.__dict__, "id": r["made"].location + "#it",
                                        "kinds": (CP + "CareWork",)})
    assert r["stale"] is not None and r["stale"].status == 412
    assert r["after_stale"].body == r["got"].body  # the refused write left it as it was
    assert r["replaced"].status == 204 and r["replaced"].etag != r["got"].etag
    assert r["created_only"] is not None
    assert r["head"].etag == r["replaced"].etag and r["head"].body == b""
    assert r["head"].links["acl"] == [r["made"].location + ".acl"]
    assert {"http://www.w3.org/ns/ldp#Resource", "http://www.w3.org/ns/ldp#RDFSource"} <= \
        set(r["head"].links["type"])  # every link of a rel, not the last one only
    assert r["final"].name == "Repaired toaster 2" and r["final"].description is None


def test_graphs_and_n3_patches(amara: dict[str, str]) -> None:
    url = amara["pod"] + f"notes/{unique('n')}.ttl"
    s, p = ox.NamedNode(url + "#it"), ox.NamedNode("https://schema.org/name")

    async def work() -> tuple[Graph, Graph, Exception | None, Graph]:
        async with PodClient(await login(amara)) as pod:
            await pod.put(url, Graph([ox.Triple(s, p, ox.Literal("first"))]))
            before = await pod.graph(url)
            await pod.patch(url, N3Patch(
                where=[(s, p, ox.Variable("old"))], deletes=[(s, p, ox.Variable("old"))],
                inserts=[(s, p, ox.Literal("second", language="en"))]))
            after = await pod.graph(url)
            failed = None
            try:  # deleting what is not there fails whole (Solid Protocol §5.3.1)
                await pod.patch(url, N3Patch(deletes=[(s, p, ox.Literal("absent"))],
                                             inserts=[(s, p, ox.Literal("never"))]))
            except Conflict as exc:
                failed = exc
            return before, after, failed, await pod.graph(url)

    before, after, failed, last = run(work)
    assert before.value(s, p) == ox.Literal("first")
    assert after.objects(s, p) == [ox.Literal("second", language="en")]
    assert failed is not None and set(last) == set(after)
    with pytest.raises(ValueError, match="blank nodes"):
        N3Patch(deletes=[(ox.BlankNode(), p, ox.Literal("x"))]).text()


def test_errors_are_typed_from_problem_details(server: Server, amara: dict[str, str]) -> None:
    other = server.create_account(unique("sdk"))

    async def work() -> dict[str, Exception]:
        found: dict[str, Exception] = {}
        async with PodClient() as anonymous:
            try:
                await anonymous.get(amara["pod"] + "contributions/")
            except Unauthenticated as exc:
                found["401"] = exc
        async with PodClient(await login(other)) as stranger:
            try:
                await stranger.get(amara["pod"] + "contributions/")
            except Forbidden as exc:
                found["403"] = exc
        async with PodClient(await login(amara)) as pod:
            try:
                await pod.get(amara["pod"] + "nothing-here")
            except NotFound as exc:
                found["404"] = exc
            try:
                await pod.put(amara["pod"] + "contributions/broken",
                              contribution(amara).to_turtle().replace(b"vf#work", b"vf#take"),
                              content_type="text/turtle")
            except ShapeViolation as exc:
                found["422"] = exc
            try:
                await pod.get(amara["pod"] + "contributions/broken")
            except NotFound as exc:
                found["not stored"] = exc
        return found

    found = run(work)
    assert set(found) == {"401", "403", "404", "422", "not stored"}
    assert found["401"].type == "https://commonpod.org/problems/unauthenticated"  # type: ignore[attr-defined]
    assert other["webid"] in found["403"].detail  # type: ignore[attr-defined]
    shape = found["422"]
    assert isinstance(shape, ShapeViolation) and shape.status == 422
    assert any(v.get("path") == "vf:action" for v in shape.violations), shape.violations


def test_collect_reads_a_class_in_one_request_as_records(amara: dict[str, str]) -> None:
    webid = amara["webid"]
    thanks = Appreciation(appreciation_of=amara["pod"] + "contributions/toaster#it",
                          description="Thank you for the toaster.", language="en")

    async def work() -> tuple[Any, Any]:
        async with PodClient(await login(amara)) as pod:
            for n in (3, 4):
                await pod.put(amara["pod"] + f"contributions/c{n}", contribution(amara, n))
            await pod.put(amara["pod"] + "appreciations/thanks", thanks)
            return (await pod.collect(amara["pod"], Contribution),
                    await pod.collect(amara["pod"], "vf:Appreciation"))

    contributions, appreciations = run(work)
    names = {c.name for c in contributions.records}
    assert {"Repaired toaster 3", "Repaired toaster 4"} <= names
    assert all(c.provider == webid for c in contributions.records)
    assert amara["pod"] + "contributions/c3" in contributions.documents
    assert {c.id for c in contributions.records} >= {
        amara["pod"] + "contributions/c3#it", amara["pod"] + "contributions/c4#it"}
    assert appreciations.records == [
        Appreciation(**{**thanks.__dict__, "id": amara["pod"] + "appreciations/thanks#it"})]


def test_instances_that_are_not_records_are_said_so_not_dropped_silently() -> None:
    doc = "https://pods.example/amara/contributions/"
    graph = Graph.parse(f"""
        <{doc}a#it> a <{CP}Contribution>; <https://schema.org/name> "Fine";
          <https://w3id.org/valueflows/ont/vf#provider> <https://pods.example/amara/#me>.
        <{doc}b#it> a <{CP}Contribution>; <https://schema.org/name> "Whose?".
        """)
    assert [c.name for c in Contribution.all_in(graph)] == ["Fine"]
    assert list(Contribution.invalid_in(graph)) == [f"{doc}b#it"]
    assert "vf:provider" in Contribution.invalid_in(graph)[f"{doc}b#it"]


def test_a_graph_gives_no_triple_term_as_an_object() -> None:
    """``Graph.objects`` gives IRIs, blank nodes and literals, as it is typed to (found by
    mypy): an RDF 1.2 triple term, which has no ``value`` to read, is left out; the graph
    itself keeps the triple, and writes it as Turtle that reads back the same."""
    doc = "https://pods.example/amara/profile/card"
    knows = ox.NamedNode("http://xmlns.com/foaf/0.1/knows")
    graph = Graph.parse(f"<#me> <{knows.value}> <<( <#a> <#b> <#c> )>>, <https://b.example/#me>.",
                        base_iri=doc)
    me = ox.NamedNode(doc + "#me")
    assert graph.objects(me, knows) == [ox.NamedNode("https://b.example/#me")]
    assert graph.value(me, knows) == ox.NamedNode("https://b.example/#me")
    assert len(graph) == 2
    assert set(Graph.parse(graph.to_turtle(), base_iri=doc)) == set(graph)


def test_a_record_that_cannot_be_written_is_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="absolute IRI"):
        Contribution(provider="amara", name="x", in_scope_of=("https://r.example/",),
                     kinds=("cp:Code",), when=date(2025, 1, 1)).to_graph()
    with pytest.raises(ValueError, match="when, or beginning and end"):
        Contribution(provider="https://a.example/#me", name="x",
                     in_scope_of=("https://r.example/",), kinds=("cp:Code",)).to_graph()


def test_tokens_are_renewed_before_they_expire(amara: dict[str, str]) -> None:
    """A session renews when its token has less than ``renew_before`` seconds left: with a
    bound above the token's whole life, every request gets a new token first."""
    url = amara["pod"] + "contributions/"

    async def work() -> tuple[list[str], list[int]]:
        session = await login(amara, renew_before=10_000)
        tokens, statuses = [session.access_token], []
        async with PodClient(session) as pod:
            for _ in range(3):
                statuses.append((await pod.get(url)).status)
                tokens.append(session.access_token)
        return tokens, statuses

    tokens, statuses = run(work)
    assert statuses == [200, 200, 200]
    assert len(set(tokens)) == 4


def test_concurrent_requests_share_one_renewal(amara: dict[str, str]) -> None:
    """Five requests that find the token expired renew it once: the others wait for that
    renewal and use its token."""
    url = amara["pod"] + "contributions/"

    async def work() -> tuple[str, set[str], list[int]]:
        session = await login(amara)
        first = session.access_token
        session.expires_at = time.time()  # as if its five minutes were over
        seen: set[str] = set()
        async with PodClient(session) as pod:
            async def one() -> int:
                got = await pod.get(url)
                seen.add(session.access_token)
                return got.status

            statuses = await asyncio.gather(*(one() for _ in range(5)))
        return first, seen, list(statuses)

    first, seen, statuses = run(work)
    assert statuses == [200] * 5
    assert len(seen) == 1 and first not in seen


def test_the_synchronous_client_for_scripts(amara: dict[str, str]) -> None:
    url = amara["pod"] + f"notes/{unique('s')}.json"
    with SyncPodClient.login(amara["issuer"], amara["client_id"],
                             amara["client_secret"]) as pod:
        assert pod.session is not None and pod.session.webid == amara["webid"]
        made = pod.put(url, {"@context": {"name": "https://schema.org/name"},
                             "@id": "#it", "name": "sync"})
        assert made.status == 201
        got = pod.get(url)
        assert json.loads(got.body)["name"] == "sync"
        assert pod.graph(url).value(ox.NamedNode(url + "#it"),
                                    ox.NamedNode("https://schema.org/name")) == \
            ox.Literal("sync")
        assert pod.delete(url).status in (200, 204)
        with pytest.raises(NotFound):
            pod.get(url)
