"""Solid Notifications over HTTP (Solid Notifications Protocol 0.2, WebSocketChannel2023,
WebhookChannel2023): the subscription services, the channels and the sockets.

* ``GET /.notifications/{type}/``: the subscription service's description (JSON-LD).
* ``POST /.notifications/{type}/``: subscribe (a JSON-LD request naming ``type``, ``topic``
  and for a webhook ``sendTo``; Solid-OIDC credentials, or none for a socket on a public
  resource); the answer describes the channel: its ``id`` and, for a socket, ``receiveFrom``.
* ``GET``/``DELETE /.notifications/channels/{id}``: the channel, and ending it.
* ``/.notifications/ws/{secret}``: the socket a ``receiveFrom`` URL names; each notification is
  one text message, and the server closes the socket (code 1000) when the channel ends.

The storage description (``/.well-known/solid``) names both services (``notify:subscription``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response

from pod.deps import AgentDep, SettingsDep, service
from pod.errors import NotAcceptable, NotFound, PayloadTooLarge
from pod.http.headers import cors
from pod.negotiation import choose
from pod.notifications.channels import (
    CHANNEL_TYPES,
    MAX_BODY,
    MEDIA_TYPE,
    WEBHOOK,
    Channel,
    iso,
    parse_request,
)
from pod.notifications.hub import Notifications
from pod.resources import rdf
from vocab.namespaces import NOTIFICATION_CONTEXT, NOTIFY, RDF, XSD, node_of

router = APIRouter()
PREFIX = "/.notifications/"
FEATURES = ["endAt", "accept"]
_SOCKETS = PREFIX + "ws/"
_SECRET = re.compile(re.escape(_SOCKETS) + r"[^\s\"?]*")
NotificationsDep = Annotated[Notifications, Depends(service(Notifications))]
RDF_TYPE, XSD_DATE_TIME = node_of(RDF.type), node_of(XSD.dateTime)
TERMS = {name: node_of(NOTIFY[name]) for name in ("topic", "endAt", "receiveFrom", "sendTo")}


class HideSecrets(logging.Filter):
    """Hides the secret of a socket URL in the lines uvicorn logs of each socket it opens
    (``"WebSocket /.notifications/ws/…" [accepted]``): the secret is the channel's only key."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
                isinstance(arg, str) and _SOCKETS in arg for arg in record.args):
            record.args = tuple(_SECRET.sub(_SOCKETS + "…", arg) if isinstance(arg, str)
                                else arg for arg in record.args)
        return True


def hide_secrets() -> None:
    """Install :class:`HideSecrets` on uvicorn's logger (once)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, HideSecrets) for f in logger.filters):
        logger.addFilter(HideSecrets())


def service_url(base_url: str, kind: str) -> str:
    """The URL of the subscription service of channel type ``kind``."""
    return f"{base_url}{PREFIX[1:]}{kind}/"


def _kind(kind: str) -> str:
    if kind not in CHANNEL_TYPES:
        raise NotFound(f"there is no subscription service for {kind!r}; there are "
                       f"{' and '.join(CHANNEL_TYPES)}")
    return kind


def _json(body: dict[str, Any], origin: str | None, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status_code=status,
                    media_type=MEDIA_TYPE, headers={**cors(origin), "Vary": "Origin"})


def _answer_kind(request: Request) -> str:
    """JSON-LD, or Turtle when the client prefers it (anything else: JSON-LD, never a 406
    for a channel already made)."""
    try:
        return choose(request.headers.get("accept"), (MEDIA_TYPE, rdf.TURTLE))
    except NotAcceptable:
        return MEDIA_TYPE


def _channel_answer(request: Request, channel: Channel, base_url: str,
                    secret: str | None) -> Response:
    described = _described(channel, base_url, secret)
    if _answer_kind(request) == MEDIA_TYPE:
        return _json(described, request.headers.get("origin"))
    me = ox.NamedNode(described["id"])
    triples = [ox.Triple(me, RDF_TYPE, ox.NamedNode(CHANNEL_TYPES[channel.type])),
               ox.Triple(me, TERMS["topic"], ox.NamedNode(channel.topic)),
               ox.Triple(me, TERMS["endAt"], ox.Literal(described["endAt"],
                                                        datatype=XSD_DATE_TIME))]
    for term in ("receiveFrom", "sendTo"):
        if term in described:
            triples.append(ox.Triple(me, TERMS[term], ox.NamedNode(described[term])))
    return Response(rdf.serialize(triples, rdf.TURTLE), media_type=rdf.TURTLE,
                    headers={**cors(request.headers.get("origin")), "Vary": "Origin, Accept"})


@router.get(PREFIX + "{kind}/", include_in_schema=False)
async def description(request: Request, kind: str, settings: SettingsDep) -> Response:
    """The subscription service: its channel type and features (§6)."""
    url = service_url(settings.base_url, _kind(kind))
    return _json({"@context": [NOTIFICATION_CONTEXT], "id": url, "channelType": kind,
                  "feature": FEATURES}, request.headers.get("origin"))


@router.options(PREFIX + "{kind}/", include_in_schema=False)
@router.options(PREFIX + "channels/{channel_id}", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """CORS preflight: browser apps subscribe from their own origin."""
    return Response(status_code=204, headers=cors(
        request.headers.get("origin"), request.headers.get("access-control-request-headers"),
        preflight=True))


@router.post(PREFIX + "{kind}/", include_in_schema=False)
async def subscribe(request: Request, kind: str, settings: SettingsDep,
                    hub: NotificationsDep, agent: AgentDep) -> Response:
    """Make a channel of type ``kind`` on the topic the request names (§5)."""
    request_ = parse_request(await _body(request), request.headers.get("content-type"),
                             settings.base_url, _kind(kind),
                             allow_private=settings.allow_private_fetch)
    channel, secret = await hub.subscribe(request_, agent)
    return _channel_answer(request, channel, settings.base_url, secret)


@router.get(PREFIX + "channels/{channel_id}", include_in_schema=False)
async def channel(request: Request, channel_id: str, settings: SettingsDep,
                  hub: NotificationsDep, agent: AgentDep) -> Response:
    """The channel, for its subscriber (its socket secret is not shown again)."""
    found = await hub.find(channel_id, agent)
    return _channel_answer(request, found, settings.base_url, None)


@router.delete(PREFIX + "channels/{channel_id}", include_in_schema=False)
async def unsubscribe(request: Request, channel_id: str, hub: NotificationsDep,
                      agent: AgentDep) -> Response:
    """End the channel (its subscriber only)."""
    await hub.unsubscribe(channel_id, agent)
    return Response(status_code=204, headers=cors(request.headers.get("origin")))


@router.websocket(PREFIX + "ws/{secret}")
async def socket(websocket: WebSocket, secret: str, hub: NotificationsDep) -> None:
    """A socket channel's notifications, one text message each, until the channel ends."""
    async with hub.listen(secret) as found:
        if found is None:
            await websocket.close(code=1008, reason="no such channel (or it has ended)")
            return
        _, outbox = found
        await websocket.accept()
        closed = asyncio.create_task(_until_closed(websocket))
        try:
            while True:
                getting = asyncio.create_task(outbox.get())
                done, _ = await asyncio.wait({getting, closed},
                                             return_when=asyncio.FIRST_COMPLETED)
                if getting not in done:
                    getting.cancel()
                    return  # the subscriber closed the socket
                text = getting.result()
                if text is None:
                    await websocket.close(code=1000, reason="the channel has ended")
                    return
                await websocket.send_text(text)
        finally:
            closed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closed


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and drop) what the subscriber sends until it closes the socket."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


async def _body(request: Request) -> bytes:
    """The request body, refused past :data:`MAX_BODY` bytes (413) without reading it all."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise PayloadTooLarge(f"a subscription request is at most {MAX_BODY} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise PayloadTooLarge(f"a subscription request is at most {MAX_BODY} bytes")
    return bytes(body)


def _described(channel: Channel, base_url: str, secret: str | None) -> dict[str, Any]:
    """The channel's description (§7.2), in the notification context."""
    out: dict[str, Any] = {"@context": [NOTIFICATION_CONTEXT],
                           "id": f"{base_url}{PREFIX[1:]}channels/{channel.id}",
                           "type": channel.type, "topic": channel.topic,
                           "endAt": iso(channel.end_at)}
    if channel.type == WEBHOOK:
        out["sendTo"] = channel.send_to
    elif secret is not None:
        scheme = "wss" if base_url.startswith("https:") else "ws"
        out["receiveFrom"] = f"{scheme}{base_url[base_url.index(':'):]}{PREFIX[1:]}ws/{secret}"
    return out


__all__ = ["hide_secrets", "router", "service_url"]
