"""Solid Notifications (issue #15 §3) through a real server: discovery in the storage
description, WebSocketChannel2023 and WebhookChannel2023 channels, the activities each write
tells, who may subscribe (WAC, an app's grant), channels ending when that access goes, and bad
requests refused without a channel made."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from rdflib import Graph, Namespace, URIRef
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import Server, cli, live_store, new_server
from tests.dpop import DPoPClient
from tests.test_apps import (
    NEEDS,
    AppSession,
    Member,
    Site,
    client_document,
    grants_of,
    member,
    sign_in_with_app,
    site,
)

NOTIFY = Namespace("http://www.w3.org/ns/solid/notifications#")
CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
WS, HOOK = "WebSocketChannel2023", "WebhookChannel2023"
TEXT = {"Content-Type": "text/plain"}
TTL = {"Content-Type": "text/turtle"}
LD = {"Content-Type": "application/ld+json"}
Requester = DPoPClient | AppSession | None
__all__ = ["site"]  # the loopback site serving the app's Client ID Document (a fixture)


@dataclass
class Receiver:
    """A loopback webhook receiver: every POST's media type and JSON body."""

    url: str
    got: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def wait(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.got) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [body for _, body in self.got]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            found.got.append((self.headers["Content-Type"], json.loads(body)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{http.server_address[1]}/hook"
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield found
    http.shutdown()


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server on SQLite, or on PostgreSQL with ``COMMONPOD_TEST_STORE=postgresql``."""
    with live_store() as store:
        server = new_server(tmp_path_factory.mktemp("notify"), store=store)
        server.start()
        yield server
        server.stop()
    assert "Traceback" not in server.log(), server.log()
    assert "/.notifications/ws/" not in server.log().replace("/.notifications/ws/…", ""), \
        "a socket's secret was logged"


@pytest.fixture(scope="module")
def alice(srv: Server) -> Member:
    return member(srv, "alice", contributions=1)


@pytest.fixture(scope="module")
def bob(srv: Server) -> Member:
    return member(srv, "bob")


def subscribe(srv: Server, who: Requester, topic: str, kind: str = WS,
              **extra: Any) -> httpx.Response:
    """POST a subscription request to the service of ``kind``, as ``who`` (``None``:
    anonymously)."""
    url = f"{srv.base}.notifications/{kind}/"
    body = json.dumps({"@context": [CONTEXT], "type": kind, "topic": topic, **extra})
    if who is None:
        return httpx.post(url, content=body, headers=LD)
    return who.request("POST", url, content=body, headers=LD)


def channel(srv: Server, who: Requester, topic: str, kind: str = WS,
            **extra: Any) -> dict[str, Any]:
    r = subscribe(srv, who, topic, kind, **extra)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    return r.json()


def hear(ws: ClientConnection, timeout: float = 3.0) -> dict[str, Any]:
    found = json.loads(ws.recv(timeout=timeout))
    assert found["@context"] == ["https://www.w3.org/ns/activitystreams", CONTEXT]
    assert found["id"].startswith("urn:uuid:") and found["published"].endswith("Z")
    return found


def silent(ws: ClientConnection, seconds: float = 0.5) -> None:
    with pytest.raises(TimeoutError):
        ws.recv(timeout=seconds)


def closed(ws: ClientConnection, timeout: float = 3.0) -> None:
    """The server closes the socket (having sent nothing more) within ``timeout``."""
    with pytest.raises(ConnectionClosed):
        extra = ws.recv(timeout=timeout)
        pytest.fail(f"a notification came instead of the close: {extra}")


def acl(owner: str, resource: str, reader: str | None) -> bytes:
    text = ("@prefix acl: <http://www.w3.org/ns/auth/acl#> .\n"
            f"<#o> a acl:Authorization ; acl:agent <{owner}> ; acl:accessTo <{resource}> ;\n"
            "    acl:mode acl:Read, acl:Write, acl:Control .\n")
    if reader:
        text += (f"<#r> a acl:Authorization ; acl:agent <{reader}> ;\n"
                 f"    acl:accessTo <{resource}> ; acl:mode acl:Read .\n")
    return text.encode()


def acl_url(owner: Member, url: str) -> str:
    r = owner.own.request("HEAD", url)
    return str(httpx.URL(url).join(r.links["acl"]["url"]))


# --- discovery -------------------------------------------------------------------------------

def test_the_storage_description_names_both_subscription_services(srv: Server,
                                                                 alice: Member) -> None:
    """A client finds the services from any resource: its Link to the storage description,
    which names each service with its channel type and features."""
    links = httpx.head(alice.pod + "profile/card").links
    described = links["http://www.w3.org/ns/solid/terms#storageDescription"]["url"]
    assert described == srv.base + ".well-known/solid"
    r = httpx.get(described)
    assert r.status_code == 200
    graph = Graph().parse(data=r.text, format="turtle", publicID=srv.base)
    services = set(graph.objects(URIRef(srv.base + ".well-known/solid"), NOTIFY.subscription))
    assert services == {URIRef(f"{srv.base}.notifications/{k}/") for k in (WS, HOOK)}
    for kind in (WS, HOOK):
        service = URIRef(f"{srv.base}.notifications/{kind}/")
        assert graph.value(service, NOTIFY.channelType) == NOTIFY[kind]
        assert set(graph.objects(service, NOTIFY.feature)) == {NOTIFY.endAt, NOTIFY.accept}
        described = httpx.get(str(service))
        assert described.status_code == 200 and described.json()["channelType"] == kind
    assert httpx.get(f"{srv.base}.notifications/LDNChannel2023/").status_code == 404


# --- websockets: what each write tells ------------------------------------------------------

def test_a_socket_hears_create_update_delete_and_its_container_add_and_remove(
        srv: Server, alice: Member) -> None:
    folder = alice.pod + "diary/"
    doc = folder + "monday.txt"
    assert alice.own.request("PUT", folder + "keep.txt", content=b"x", headers=TEXT
                             ).status_code == 201
    on_doc = channel(srv, alice.own, doc)
    on_folder = channel(srv, alice.own, folder)
    assert on_doc["topic"] == doc and on_doc["type"] == WS
    assert on_doc["receiveFrom"].startswith(f"ws://127.0.0.1:{srv.port}/.notifications/ws/")
    with connect(on_doc["receiveFrom"]) as d, connect(on_folder["receiveFrom"]) as f:
        r = alice.own.request("PUT", doc, content=b"one", headers=TEXT)
        assert r.status_code == 201
        created = hear(d)
        assert (created["type"], created["object"], created["state"]) == (
            "Create", doc, r.headers["etag"])
        added = hear(f)
        assert (added["type"], added["object"], added["target"]) == ("Add", doc, folder)
        r = alice.own.request("PUT", doc, content=b"two", headers=TEXT)
        updated = hear(d)
        assert (updated["type"], updated["state"]) == ("Update", r.headers["etag"])
        silent(f)  # a member's update is not its container's news
        patch = ("@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
                 "_:p a solid:InsertDeletePatch; solid:inserts { <#a> <#b> <#c> }.")
        r = alice.own.request("PATCH", folder, content=patch.encode(),
                              headers={"Content-Type": "text/n3"})
        assert r.status_code in (200, 204), r.text
        assert hear(f)["type"] == "Update"
        assert alice.own.request("DELETE", doc).status_code == 204
        deleted = hear(d)
        assert (deleted["type"], deleted["object"]) == ("Delete", doc) and "state" not in deleted
        removed = hear(f)
        assert (removed["type"], removed["object"], removed["target"]) == (
            "Remove", doc, folder)
        r = alice.own.request("POST", folder, content=b"posted", headers=TEXT)
        assert r.status_code == 201
        assert hear(f)["object"] == r.headers["location"]
        silent(d)


def test_a_deep_put_tells_each_container_it_made(srv: Server, alice: Member) -> None:
    root = channel(srv, alice.own, alice.pod)
    with connect(root["receiveFrom"]) as ws:
        deep = alice.pod + "a1/b1/c.txt"
        assert alice.own.request("PUT", deep, content=b"x", headers=TEXT).status_code == 201
        told = hear(ws)
        assert (told["type"], told["object"], told["target"]) == (
            "Add", alice.pod + "a1/", alice.pod)
        silent(ws)


def test_the_subscriber_ends_a_channel_and_its_socket_closes(srv: Server,
                                                            alice: Member) -> None:
    found = channel(srv, alice.own, alice.pod + "ending.txt")
    assert alice.own.request("GET", found["id"]).json()["topic"] == alice.pod + "ending.txt"
    with connect(found["receiveFrom"]) as ws:
        assert alice.own.request("DELETE", found["id"]).status_code == 204
        closed(ws)
    assert alice.own.request("GET", found["id"]).status_code == 404
    with pytest.raises(InvalidStatus), connect(found["receiveFrom"]):
        pass
    with pytest.raises(InvalidStatus), connect(f"ws://127.0.0.1:{srv.port}/.notifications/ws/x"):
        pass


# --- who may subscribe ----------------------------------------------------------------------

def test_only_readers_may_subscribe_and_every_subscription_is_in_the_owners_log(
        srv: Server, alice: Member, bob: Member) -> None:
    private = alice.pod + "private.txt"
    assert alice.own.request("PUT", private, content=b"mine", headers=TEXT).status_code == 201
    assert subscribe(srv, None, private).status_code == 401
    refused = subscribe(srv, bob.own, private)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert subscribe(srv, None, alice.pod + "profile/card", HOOK,
                     sendTo="http://127.0.0.1:9/x").status_code == 401
    public = channel(srv, None, alice.pod + "profile/card")  # readable by everyone
    assert "receiveFrom" in public
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        r = alice.own.request("GET", f"{srv.base}.api/log", params={"pod": "alice"})
        subscribed = [x for x in r.json()["records"] if x["method"] == "SUBSCRIBE"]
        if any(x["agent"] == bob.webid for x in subscribed):
            break
        time.sleep(0.2)
    assert {(x["agent"], x["target"], x["status"]) for x in subscribed} >= {
        (bob.webid, private, 403)}


def test_another_subscriber_cannot_see_or_end_a_channel(srv: Server, alice: Member,
                                                       bob: Member) -> None:
    found = channel(srv, alice.own, alice.pod + "notes.txt")
    assert bob.own.request("GET", found["id"]).status_code == 404
    assert bob.own.request("DELETE", found["id"]).status_code == 404
    assert httpx.delete(found["id"]).status_code == 404
    assert alice.own.request("GET", found["id"]).status_code == 200


def test_an_acl_change_ends_the_channels_of_those_it_no_longer_lets_read(
        srv: Server, alice: Member, bob: Member) -> None:
    doc = alice.pod + "shared/with-bob.txt"
    assert alice.own.request("PUT", doc, content=b"hi", headers=TEXT).status_code == 201
    rules = acl_url(alice, doc)
    r = alice.own.request("PUT", rules, content=acl(alice.webid, doc, bob.webid), headers=TTL)
    assert r.status_code in (201, 204), r.text
    bobs = channel(srv, bob.own, doc)
    alices = channel(srv, alice.own, doc)
    with connect(bobs["receiveFrom"]) as b, connect(alices["receiveFrom"]) as a:
        assert alice.own.request("PUT", doc, content=b"v2", headers=TEXT).status_code == 204
        assert hear(b)["type"] == "Update" and hear(a)["type"] == "Update"
        r = alice.own.request("PUT", rules, content=acl(alice.webid, doc, None), headers=TTL)
        assert r.status_code == 204
        closed(b)  # at once, not at the next change
        assert alice.own.request("PUT", doc, content=b"v3", headers=TEXT).status_code == 204
        assert hear(a)["type"] == "Update"
    assert bob.own.request("GET", bobs["id"]).status_code == 404


def test_an_app_subscribes_only_within_its_grant_and_revoking_it_ends_the_channel(
        srv: Server, receiver: Receiver, site: Site) -> None:
    """The owner consented to an app reading her contributions: it may subscribe to one,
    not to her other documents (which WAC alone would let it read, as her), and the owner's
    revoking the grant ends its socket at once and its webhook."""
    cara = member(srv, "cara", contributions=1)
    assert cara.own.request("PUT", cara.pod + "secret.txt", content=b"s", headers=TEXT
                            ).status_code == 201
    site.docs["/board/app.json"] = client_document(site.base + "/board/app.json", NEEDS)
    app = sign_in_with_app(srv, cara, site.base + "/board/app.json")
    doc = cara.pod + "contributions/c1"
    assert app.request("GET", doc).status_code == 200
    assert app.request("GET", cara.pod + "secret.txt").status_code == 403
    assert subscribe(srv, app, cara.pod + "secret.txt").status_code == 403
    socket = channel(srv, app, doc)
    before = len(receiver.got)
    hook = channel(srv, app, doc, HOOK, sendTo=receiver.url)
    assert hook["sendTo"] == receiver.url and "receiveFrom" not in hook
    with connect(socket["receiveFrom"]) as ws:
        body = cara.own.request("GET", doc).content + b"\n<#x> <#y> <#z>."
        assert cara.own.request("PUT", doc, content=body, headers=TTL).status_code == 204
        assert hear(ws)["type"] == "Update"
        assert receiver.wait(before + 1)[before]["object"] == doc
        [grant] = grants_of(cara, srv)
        r = cara.own.request("POST", f"{srv.base}.api/grants/revoke?pod=cara",
                             json={"grant": grant["grant"]})
        assert r.status_code == 200, r.text
        closed(ws)
    assert cara.own.request("PUT", doc, content=body + b"\n<#x> <#y> <#w>.",
                            headers=TTL).status_code == 204
    time.sleep(0.5)
    assert len(receiver.got) == before + 1, "a webhook was told after its grant was revoked"
    assert app.request("GET", hook["id"]).status_code == 404


# --- webhooks -------------------------------------------------------------------------------

def test_a_webhook_gets_each_notification_once_as_json_ld(srv: Server, alice: Member,
                                                         receiver: Receiver) -> None:
    doc = alice.pod + "hooked.txt"
    before = len(receiver.got)
    found = channel(srv, alice.own, doc, HOOK, sendTo=receiver.url,
                    endAt="2099-01-01T00:00:00Z")
    ends = time.strptime(found["endAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert ends.tm_year < 2099  # the server ends it sooner (at most 14 days)
    assert alice.own.request("PUT", doc, content=b"1", headers=TEXT).status_code == 201
    [told] = receiver.wait(before + 1)[before:]
    assert receiver.got[before][0] == "application/ld+json"
    assert (told["type"], told["object"]) == ("Create", doc)
    time.sleep(0.5)
    assert len(receiver.got) == before + 1


# --- bad requests ---------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "headers", "status"), [
    (b"{}", {"Content-Type": "text/plain"}, 415),
    (b"<#c> <#d>", {"Content-Type": "text/turtle"}, 400),
    (b"<#c> a <http://www.w3.org/ns/solid/notifications#WebSocketChannel2023>.",
     {"Content-Type": "text/turtle"}, 422),
    (b"not json", LD, 400),
    (b"[1]", LD, 400),
    (json.dumps({"type": WS, "topic": "{pod}x"}).encode(), LD, 422),
    (json.dumps({"@context": CONTEXT, "type": HOOK, "topic": "{pod}x"}).encode(), LD, 422),
    (json.dumps({"@context": CONTEXT, "type": WS, "topic": "https://elsewhere.example/x"}
                ).encode(), LD, 422),
    (json.dumps({"@context": CONTEXT, "type": WS, "topic": "{pod}x?q=1"}).encode(), LD, 422),
    (json.dumps({"@context": CONTEXT, "type": WS, "topic": "{pod}x",
                 "startAt": "2030-01-01T00:00:00Z"}).encode(), LD, 422),
    (json.dumps({"@context": CONTEXT, "type": WS, "topic": "{pod}x",
                 "endAt": "2001-01-01T00:00:00Z"}).encode(), LD, 422),
    (json.dumps({"@context": CONTEXT, "type": WS, "topic": "{pod}x", "endAt": "soon"}
                ).encode(), LD, 422),
    (json.dumps({"@context": CONTEXT, "type": WS, "topic": "{pod}x", "accept": "text/turtle"}
                ).encode(), LD, 422),
    (json.dumps({"@context": CONTEXT, "type": WS, "topic": "{pod}x", "sendTo": "{pod}"}
                ).encode(), LD, 422),
    (b'{"@context": "' + b"x" * 9000 + b'"}', LD, 413),
], ids=["media-type", "turtle-broken", "turtle-no-topic", "not-json", "not-an-object",
        "no-context", "wrong-type",
        "topic-elsewhere", "topic-query", "start-at", "end-at-past", "end-at-garbage",
        "accept-turtle", "send-to-on-socket", "too-large"])
def test_bad_subscription_requests_get_a_clear_4xx_and_make_no_channel(
        srv: Server, alice: Member, body: bytes, headers: dict[str, str], status: int) -> None:
    url = f"{srv.base}.notifications/{WS}/"
    r = alice.own.request("POST", url, content=body.replace(b"{pod}", alice.pod.encode()),
                          headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"]


def test_a_webhook_to_a_public_http_url_or_to_this_server_is_refused(srv: Server,
                                                                      alice: Member) -> None:
    r = subscribe(srv, alice.own, alice.pod + "x", HOOK, sendTo="http://example.com/hook")
    assert r.status_code == 422 and "https" in r.json()["detail"], r.text
    r = subscribe(srv, alice.own, alice.pod + "x", HOOK, sendTo=alice.pod + "inbox/")
    assert r.status_code == 422 and "this server" in r.json()["detail"], r.text


def test_terms_it_does_not_know_are_ignored_and_at_type_names_the_type(
        srv: Server, alice: Member) -> None:
    """As a JSON-LD processor would: an unknown term is no error, ``@type`` is ``type``."""
    url = f"{srv.base}.notifications/{WS}/"
    body = {"@context": [CONTEXT], "@type": WS, "topic": alice.pod + "x", "colour": "blue"}
    r = alice.own.request("POST", url, content=json.dumps(body), headers=LD)
    assert r.status_code == 200 and r.json()["type"] == WS, r.text


def test_a_subscription_in_turtle_is_answered_in_turtle(srv: Server, alice: Member) -> None:
    """Clients speaking Turtle subscribe in Turtle and get the channel described in Turtle."""
    doc = alice.pod + "turtle.txt"
    body = (f"@prefix notify: <http://www.w3.org/ns/solid/notifications#>.\n"
            f"<> a notify:WebSocketChannel2023; notify:topic <{doc}>.\n")
    r = alice.own.request("POST", f"{srv.base}.notifications/{WS}/", content=body.encode(),
                          headers={"Content-Type": "text/turtle", "Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle"), r.text
    graph = Graph().parse(data=r.text, format="turtle")
    [receive] = graph.objects(None, NOTIFY.receiveFrom)
    assert list(graph.objects(None, NOTIFY.topic)) == [URIRef(doc)]
    with connect(str(receive)) as ws:
        assert alice.own.request("PUT", doc, content=b"t", headers=TEXT).status_code == 201
        assert hear(ws)["type"] == "Create"


def test_the_storage_description_is_json_ld_on_request_and_answers_head(srv: Server) -> None:
    url = srv.base + ".well-known/solid"
    r = httpx.get(url, headers={"Accept": "application/ld+json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    graph = Graph().parse(data=r.text, format="json-ld", publicID=srv.base)
    assert len(set(graph.objects(URIRef(url), NOTIFY.subscription))) == 2
    head = httpx.head(url)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(httpx.get(url).content)


def test_a_deleted_accounts_channels_end_and_hear_nothing_more(
        srv: Server, alice: Member, receiver: Receiver) -> None:
    """Eve subscribes (socket and webhook) to a document Alice shares with her; Eve's account
    is deleted (from the command line: another process): Alice's next change reaches neither,
    and the socket is closed — whoever takes the name "eve" next hears nothing of it."""
    eve = member(srv, "eve")
    doc = alice.pod + "shared/with-eve.txt"
    assert alice.own.request("PUT", doc, content=b"hi", headers=TEXT).status_code == 201
    rules = acl_url(alice, doc)
    r = alice.own.request("PUT", rules, content=acl(alice.webid, doc, eve.webid), headers=TTL)
    assert r.status_code in (201, 204), r.text
    socket = channel(srv, eve.own, doc)
    before = len(receiver.got)
    channel(srv, eve.own, doc, HOOK, sendTo=receiver.url)
    with connect(socket["receiveFrom"]) as ws:
        cli("account", "delete", "eve", data_dir=srv.data_dir)
        assert alice.own.request("PUT", doc, content=b"v2", headers=TEXT).status_code == 204
        closed(ws)
    time.sleep(0.5)
    assert len(receiver.got) == before, "a deleted account's webhook was told"
    again = member(srv, "eve")  # the name, free again, is someone else's now
    assert again.own.request("GET", socket["id"]).status_code == 404


def test_a_kept_channel_with_fields_of_a_newer_version_still_works(tmp_path: Path) -> None:
    """A channel record written by a newer release (a field this one does not know) neither
    stops the server from starting nor stops that channel."""
    with live_store() as store:
        server = new_server(tmp_path, store=store)
        made = server.create_account("fay")
        server.start()
        try:
            fay = DPoPClient(server.base, made)
            found = channel(server, fay, made["pod"] + "newer.txt")
        finally:
            server.stop()
        asyncio.run(_add_field_to_every_channel(server.data_dir))
        server.start()
        try:
            with connect(found["receiveFrom"]) as ws:
                assert fay.request("PUT", made["pod"] + "newer.txt", content=b"n",
                                   headers=TEXT).status_code == 201
                assert hear(ws)["type"] == "Create"
            assert channel(server, fay, made["pod"] + "other.txt")["type"] == WS
        finally:
            server.stop()
        assert "Traceback" not in server.log(), server.log()


async def _add_field_to_every_channel(data_dir: Path) -> None:
    """What a newer release might write: each kept channel with one more field."""
    from pod.runtime import open_runtime
    from pod.settings import load

    rt = await open_runtime(load({"data_dir": data_dir}))
    try:
        async with rt.system.write() as tx:
            for shard in range(256):
                name = f"notification-channels/{shard:02x}"
                opened = await tx.get(name)
                if opened is not None:
                    kept = [{**c, "rate": "PT1S"} for c in json.loads(opened.data)]
                    await tx.put(name, json.dumps(kept).encode())
            await tx.put("notification-channels/generation", b"{}")
    finally:
        await rt.close()


def test_channels_survive_a_restart(tmp_path: Path) -> None:
    with live_store() as store:
        server = new_server(tmp_path, store=store)
        made = server.create_account("dora")
        server.start()
        try:
            dora = DPoPClient(server.base, made)
            found = channel(server, dora, made["pod"] + "kept.txt")
            server.stop()
            server.start()
            with connect(found["receiveFrom"]) as ws:
                assert dora.request("PUT", made["pod"] + "kept.txt", content=b"k",
                                    headers=TEXT).status_code == 201
                assert hear(ws)["type"] == "Create"
        finally:
            server.stop()
