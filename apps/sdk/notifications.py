"""Live notifications (Solid Notifications Protocol 0.2) from the app's side: finding a
server's subscription services, the channels a subscription answers, and the notifications a
socket or webhook receives. :class:`~apps.sdk.client.PodClient` makes the requests
(``subscribe``, ``listen``, ``unsubscribe``); this module parses what they answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from apps.sdk.errors import InvalidResponse, TransportError
from apps.sdk.rdf import Graph
from vocab.namespaces import NOTIFICATION_CONTEXT, NOTIFY, iri_of

WEBSOCKET = "WebSocketChannel2023"
WEBHOOK = "WebhookChannel2023"
SUBSCRIPTION = ox.NamedNode(iri_of(NOTIFY.subscription))
CHANNEL_TYPE = ox.NamedNode(iri_of(NOTIFY.channelType))
_TYPES = {iri_of(NOTIFY.WebSocketChannel2023): WEBSOCKET,
          iri_of(NOTIFY.WebhookChannel2023): WEBHOOK}


@dataclass(frozen=True)
class Channel:
    """A notification channel, as the subscription service described it: its ``id`` (a URL:
    ``PodClient.unsubscribe`` ends it), type, topic and end; a socket's ``receive_from``
    (keep it as you keep a token: it is the channel's only key), a webhook's ``send_to``."""

    id: str
    type: str
    topic: str
    end_at: datetime | None = None
    receive_from: str | None = None
    send_to: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Channel:
        if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) for k in ("id", "type", "topic")):
            raise InvalidResponse("the subscription service answered no channel description")
        end, kind = data.get("endAt"), str(data["type"])
        return cls(data["id"], _TYPES.get(kind) or kind, data["topic"],
                   _time(end) if isinstance(end, str) else None,
                   data.get("receiveFrom"), data.get("sendTo"))


@dataclass(frozen=True)
class Notification:
    """One change (Activity Streams 2.0): ``type`` is ``Create``, ``Update``, ``Delete``,
    ``Add`` or ``Remove``; ``object`` the resource that changed, ``target`` the container a
    member was added to or removed from, ``state`` the resource's new ETag."""

    id: str
    type: str
    object: str
    published: datetime
    target: str | None = None
    state: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Notification:
        """A notification from its JSON-LD (a socket's message or a webhook's body)."""
        if not isinstance(data, dict) or not all(
                isinstance(data.get(k), str) for k in ("id", "type", "object", "published")):
            raise InvalidResponse("a notification must name its id, type, object and time")
        published = _time(data["published"])
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        target, state = data.get("target"), data.get("state")
        return cls(data["id"], data["type"], data["object"], published,
                   target if isinstance(target, str) else None,
                   state if isinstance(state, str) else None)


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidResponse(f"{text!r} is not an xsd:dateTime") from None


def services(description: Graph, url: str) -> dict[str, str]:
    """The subscription services a storage description at ``url`` names, by channel type
    (``{"WebSocketChannel2023": service URL, …}``)."""
    found = {}
    for service in description.objects(ox.NamedNode(url), SUBSCRIPTION):
        if not isinstance(service, ox.NamedNode):
            continue
        for kind in description.objects(service, CHANNEL_TYPE):
            if isinstance(kind, ox.NamedNode) and kind.value in _TYPES:
                found[_TYPES[kind.value]] = service.value
    return found


def subscription_request(kind: str, topic: str, *, send_to: str | None = None,
                         end_at: datetime | None = None) -> bytes:
    """The JSON-LD body of a subscription to ``topic`` (Solid Notifications Protocol §5)."""
    body: dict[str, Any] = {"@context": [NOTIFICATION_CONTEXT], "type": kind, "topic": topic}
    if send_to is not None:
        body["sendTo"] = send_to
    if end_at is not None:
        if end_at.tzinfo is None:
            raise ValueError("end_at needs a time zone")
        body["endAt"] = end_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(body).encode()


async def notifications(socket: ClientConnection) -> AsyncIterator[Notification]:
    """What an open socket tells, one notification per message, until the server closes it
    because the channel ended (close code 1000) or the caller stops iterating. A socket cut
    off otherwise — a server restarting (1012), a network failure — raises
    :class:`~apps.sdk.errors.TransportError`: the channel may live on, so listen again."""
    try:
        async for message in socket:
            text = message if isinstance(message, str) else message.decode()
            try:
                yield Notification.from_json(json.loads(text))
            except ValueError:
                raise InvalidResponse("a notification that is not JSON") from None
    except ConnectionClosed:
        pass
    code = socket.close_code
    if code != CloseCode.NORMAL_CLOSURE:
        raise TransportError(f"the channel's socket was cut off (close code {code}); the "
                             "channel may live on: listen again")


__all__ = ["WEBHOOK", "WEBSOCKET", "Channel", "Notification", "notifications", "services",
           "subscription_request"]
