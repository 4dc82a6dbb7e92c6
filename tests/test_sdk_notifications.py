"""The SDK's live notifications (apps/sdk/notifications.py) against a live server: finding the
subscription services, a socket's changes as typed notifications until the channel ends,
webhooks from the synchronous client, refusals as typed errors, and malformed notifications
refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from apps.sdk import (
    Channel,
    Forbidden,
    InvalidResponse,
    Notification,
    PodClient,
    SyncPodClient,
    Unprocessable,
    client_credentials,
)
from tests.conftest import Server
from tests.test_accounts import unique


@pytest.fixture(scope="module")
def people(server: Server) -> tuple[dict[str, str], dict[str, str]]:
    return server.create_account(unique("nt")), server.create_account(unique("nt"))


def test_a_socket_gives_typed_changes_until_the_channel_ends(
        server: Server, people: tuple[dict[str, str], dict[str, str]]) -> None:
    owner, _ = people

    async def work() -> tuple[dict[str, str], list[Notification], bool]:
        session = await client_credentials(server.base, owner["client_id"],
                                           owner["client_secret"])
        async with PodClient(session) as pod:
            services = await pod.subscription_services(owner["pod"] + "not-yet")
            doc = owner["pod"] + "watched.txt"
            channel = await pod.subscribe(doc, end_at=datetime.now(UTC) + timedelta(hours=1))
            assert channel.type == "WebSocketChannel2023" and channel.topic == doc
            assert channel.end_at is not None and channel.end_at < datetime.now(UTC) + \
                timedelta(hours=1, seconds=5)
            seen: list[Notification] = []
            ended = False
            async with pod.listen(channel) as changes, asyncio.timeout(15):
                made = await pod.put(doc, "one", content_type="text/plain")
                await pod.delete(doc)
                async for change in changes:
                    seen.append(change)
                    if change.type == "Delete":
                        assert seen[0].state == made.etag
                        await pod.unsubscribe(channel)
                ended = True  # the iteration ended: the server closed the socket
            await pod.unsubscribe(channel)  # again: no error
            return services, seen, ended

    services, seen, ended = asyncio.run(work())
    assert set(services) == {"WebSocketChannel2023", "WebhookChannel2023"}
    assert [n.type for n in seen] == ["Create", "Delete"] and ended
    assert all(n.object.endswith("/watched.txt") and n.published.tzinfo for n in seen)


def test_refusals_are_typed_and_webhooks_come_from_the_sync_client(
        server: Server, people: tuple[dict[str, str], dict[str, str]]) -> None:
    owner, other = people
    private = owner["pod"] + "private.txt"
    with SyncPodClient.login(server.base, owner["client_id"], owner["client_secret"]) as mine:
        mine.put(private, "mine", content_type="text/plain")
        hook = mine.subscribe(private, webhook="http://127.0.0.1:9/hook")
        assert isinstance(hook, Channel) and hook.send_to == "http://127.0.0.1:9/hook"
        assert hook.receive_from is None
        with pytest.raises(Unprocessable):
            mine.subscribe(private, webhook="http://example.com/hook")  # not https
        mine.unsubscribe(hook)
    with SyncPodClient.login(server.base, other["client_id"], other["client_secret"]
                             ) as theirs, pytest.raises(Forbidden):
        theirs.subscribe(private)


@pytest.mark.parametrize("body", [
    None, [], {"id": "urn:x", "type": "Update", "object": "https://x.example/a"},
    {"id": "urn:x", "type": "Update", "object": 5, "published": "2026-01-01T00:00:00Z"},
    {"id": "urn:x", "type": "Update", "object": "https://x.example/a", "published": "soon"},
], ids=["null", "list", "no-time", "object-not-text", "time-garbage"])
def test_malformed_notifications_are_refused(body: object) -> None:
    with pytest.raises(InvalidResponse):
        Notification.from_json(body)
