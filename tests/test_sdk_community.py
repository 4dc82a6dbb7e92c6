"""Many members at once (apps.sdk.community): bounded parallelism in all and per server,
retries that honour Retry-After, per-member errors and timeouts — against small stub servers
that count what they are sent, and against two live servers, one stopped mid-way."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest

from apps.sdk import (
    Community,
    Contribution,
    Forbidden,
    MemberResult,
    PodClient,
    Retry,
    ServiceUnavailable,
    TransportError,
    client_credentials,
)
from tests.conftest import Server, free_port, new_server
from tests.listeners import listening

T = TypeVar("T")


def run(work: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(work())


def contribution_turtle(base: str, pod: str) -> bytes:
    doc = f"{base}{pod}/contributions/c1"
    return (f"<{base}{pod}/contributions/> <http://www.w3.org/ns/ldp#contains> <{doc}> .\n"
            f"<{doc}#it> a <https://commonpod.org/ns#Contribution> ;\n"
            f"  <https://w3id.org/valueflows/ont/vf#action> "
            f"<https://w3id.org/valueflows/ont/vf#work> ;\n"
            f"  <https://w3id.org/valueflows/ont/vf#provider> <{base}{pod}/profile/card#me> ;\n"
            f"  <https://w3id.org/valueflows/ont/vf#inScopeOf> <https://r.example/#c> ;\n"
            f"  <https://w3id.org/valueflows/ont/vf#resourceClassifiedAs> "
            f"<https://commonpod.org/ns#CareWork> ;\n"
            f"  <https://schema.org/name> \"{pod}'s contribution\" .\n").encode()


@dataclass
class Meter:
    """Requests in flight, across every stub sharing it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    now: int = 0
    most: int = 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


class Stub:
    """A stand-in for a Commonpod server's ``/.api/collect``. By pod name: ``slow…`` answers
    after 0.3 s; ``busy…`` answers 429 with ``Retry-After: 1`` the first time; ``down…``
    always 503; anything else at once."""

    def __init__(self, everyone: Meter) -> None:
        self.everyone, self.mine = everyone, Meter()
        self.seen: dict[str, list[float]] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                pod = parse_qs(urlsplit(self.path).query).get("pod", [""])[0]
                stub.seen.setdefault(pod, []).append(time.monotonic())
                self._answer(pod, len(stub.seen[pod]))

            def _answer(self, pod: str, tries: int) -> None:
                # in flight until the answer is ready, before a byte of it is sent: a client
                # that has read it may send its next request before this thread runs again
                for meter in (stub.everyone, stub.mine):
                    meter.enter()
                try:
                    if pod.startswith("slow"):
                        time.sleep(0.3)
                finally:
                    for meter in (stub.everyone, stub.mine):
                        meter.leave()
                if pod.startswith("down") or (pod.startswith("busy") and tries == 1):
                    self.send_response(503 if pod.startswith("down") else 429)
                    self.send_header("Retry-After", "0" if pod.startswith("down") else "1")
                    self.send_header("Content-Type", "application/problem+json")
                    body = b'{"type": "about:blank", "title": "Busy", "detail": "later"}'
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/turtle")
                    body = contribution_turtle(stub.base, pod)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def stubs() -> Iterator[tuple[Stub, Stub, Meter]]:
    everyone = Meter()
    a, b = Stub(everyone), Stub(everyone)
    yield a, b, everyone
    for stub in (a, b):
        stub.httpd.shutdown()


def test_parallelism_is_bounded_in_all_and_per_server(stubs: tuple[Stub, Stub, Meter]
                                                      ) -> None:
    a, b, everyone = stubs
    members = [f"{s.base}slow{n}/" for s in (a, b) for n in range(6)]

    async def work() -> list[MemberResult[Any]]:
        async with PodClient() as client:
            return await Community(client, concurrency=3, per_server=2).collect(
                members, Contribution)

    results = run(work)
    assert [r.member for r in results] == members and all(r.ok for r in results), results
    assert [r.value.records[0].name for r in results] == \
        [f"slow{n}'s contribution" for _ in (a, b) for n in range(6)]
    assert 2 <= everyone.most <= 3  # in parallel, never beyond the bound
    assert a.mine.most <= 2 and b.mine.most <= 2


def test_retries_honour_retry_after_and_errors_stay_with_their_member(
        stubs: tuple[Stub, Stub, Meter]) -> None:
    a, b, _ = stubs
    nobody = f"http://127.0.0.1:{free_port()}/gone/"  # nothing listens there
    with listening() as silent:
        mute = f"http://127.0.0.1:{silent.port}/mute/"
        members = [a.base + "busy/", b.base + "down/", nobody, mute, a.base + "fine/"]

        async def work() -> list[MemberResult[Any]]:
            retry = Retry(attempts=3, backoff=0.05, max_wait=5)
            async with PodClient(retry=retry) as client:
                return await Community(client, concurrency=5, timeout=3).collect(
                    members, Contribution)

        started = time.monotonic()
        busy, down, gone, quiet, fine = run(work)
        took = time.monotonic() - started
    assert busy.ok and busy.value.records[0].name == "busy's contribution"
    first, second = a.seen["busy"]
    assert second - first >= 0.95  # waited as Retry-After said
    assert isinstance(down.error, ServiceUnavailable) and len(b.seen["down"]) == 3
    assert isinstance(gone.error, TransportError)
    assert isinstance(quiet.error, TimeoutError) and quiet.seconds < 10
    assert fine.ok
    assert took < 30  # one dead or silent server never stalled the read


def test_a_silent_server_does_not_hold_up_the_others(stubs: tuple[Stub, Stub, Meter]) -> None:
    """Members waiting for their own server's turn hold no slot: the answering server's
    members are all read while the silent one's wait out their timeout one by one."""
    a, _, _ = stubs
    with listening() as silent:
        slow = [f"http://127.0.0.1:{silent.port}/m{n}/" for n in range(3)]
        fast = [a.base + f"f{n}/" for n in range(4)]

        async def work() -> list[MemberResult[Any]]:
            async with PodClient() as client:
                community = Community(client, concurrency=2, per_server=1, timeout=1.5)
                return [r async for r in community.each(slow + fast, _collect)]

        order = run(work)
    assert {r.member for r in order[:4]} == set(fast) and all(r.ok for r in order[:4])
    assert all(isinstance(r.error, TimeoutError) for r in order[4:])


async def _collect(client: PodClient, pod: str) -> Any:
    return await client.collect(pod, Contribution)


# --- two live servers, one stopped mid-way ----------------------------------------------------

READ_FOR = """@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#owner> a acl:Authorization; acl:agent <{owner}>; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Read, acl:Write, acl:Control.
<#board> a acl:Authorization; acl:agent <{reader}>; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Read.
"""


@pytest.fixture
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    a = new_server(tmp_path_factory.mktemp("community-a"))
    b = new_server(tmp_path_factory.mktemp("community-b"))
    for srv in (a, b):
        srv.start()
    yield a, b
    for srv in (a, b):
        srv.stop()


def test_members_on_two_servers_one_stopped_mid_way(servers: tuple[Server, Server]) -> None:
    a, b = servers
    board = a.create_account("board")
    members = [a.create_account("ann"), b.create_account("bea"), b.create_account("bo"),
               a.create_account("al"), a.create_account("ada")]
    ada = members.pop()  # a member who gave the board nothing

    async def share(who: dict[str, str]) -> None:
        session = await client_credentials(who["issuer"], who["client_id"], who["client_secret"])
        async with PodClient(session) as own:
            await own.put(who["pod"] + "contributions/c1", Contribution(
                provider=who["webid"], name=f"{who['pod']} c1",
                in_scope_of=("https://r.example/#c",), kinds=("cp:Code",),
                when=time_at()))
            if who is not ada:
                await own.put(who["pod"] + "contributions/.acl",
                              READ_FOR.format(owner=who["webid"], reader=board["webid"]),
                              content_type="text/turtle")

    async def work() -> list[MemberResult[Any]]:
        for who in (*members, ada):
            await share(who)
        session = await client_credentials(board["issuer"], board["client_id"],
                                           board["client_secret"])
        results = []
        async with PodClient(session, retry=Retry(attempts=2, backoff=0.05)) as client:
            community = Community(client, concurrency=1, timeout=20)
            async for result in community.each([m["webid"] for m in members]
                                               + [ada["webid"]], _collect):
                results.append(result)
                if len(results) == 1:
                    b.stop()  # on purpose blocking: nothing else runs until B is gone
        return results

    started = time.monotonic()
    results = run(work)
    assert results[0].member == members[0]["webid"]  # read before B stopped
    ann, bea, bo, al, nothing = sorted(results, key=lambda r: [
        m["webid"] for m in (*members, ada)].index(r.member))
    assert ann.ok and [c.name for c in ann.value.records] == [members[0]["pod"] + " c1"]
    assert isinstance(bea.error, TransportError) and isinstance(bo.error, TransportError)
    assert bea.member == members[1]["webid"]
    assert al.ok and al.value.records[0].provider == members[3]["webid"]
    assert isinstance(nothing.error, Forbidden)
    assert time.monotonic() - started < 60


def time_at() -> Any:
    from datetime import UTC, datetime

    return datetime(2025, 6, 1, tzinfo=UTC)
