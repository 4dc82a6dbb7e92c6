"""One HTTP exchange at the ASGI level: the request as the LDP edge reads it, and its reply.

The LDP path is the hot path, so it skips framework request/response objects: headers are read
once into a dict, the body is streamed within the size limit, and a reply is two ASGI sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.types import Receive, Scope, Send

from pod.errors import PayloadTooLarge


class Disconnected(Exception):
    """The client went away before its request body was complete."""


@dataclass(slots=True)
class Reply:
    """A response: status, headers and body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class Exchange:
    """The parts of an ASGI HTTP request the LDP edge needs."""

    __slots__ = ("_receive", "headers", "method", "path")

    def __init__(self, scope: Scope, receive: Receive):
        self.method: str = scope["method"]
        raw = scope.get("raw_path") or scope["path"].encode()
        self.path: str = raw.decode("latin-1").split("?", 1)[0]
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        self.headers = headers
        self._receive = receive

    async def body(self, limit: int) -> bytes:
        """The whole body, refused past ``limit`` bytes; raises :class:`Disconnected` if the
        client leaves mid-way (so nothing half-received is ever written)."""
        declared = self.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"the body exceeds this server's limit of {limit} bytes")
        chunks, size, more = [], 0, True
        while more:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body exceeds this server's limit of {limit} bytes")
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


async def send_reply(send: Send, reply: Reply, *, head: bool = False) -> None:
    """Send ``reply``; for HEAD, the headers (with the body's length) and no body."""
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()]
    if "content-length" not in reply.headers and reply.status not in (204, 304):
        headers.append((b"content-length", str(len(reply.body)).encode()))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else reply.body})
