"""HTTP/1.1 connections with deadlines: uvicorn's httptools protocol, bounded against slow
clients (slowloris).

uvicorn limits idle keep-alive time and, with ``limit_concurrency``, answers 503 past a number
of connections, but it waits for a request head or body for ever and accepts a head of any
size. This subclass adds, per connection:

* a deadline for the request head (``header_timeout``): from the connection's start for its
  first request, from the first byte of each later one (uvicorn's keep-alive timeout covers
  the idle time in between). A head that is not complete by then is answered 408 (RFC 9110
  §15.5.9) and the connection closed — silently if not one byte of it came;
* a bound on the head's size (:data:`MAX_HEAD_BYTES` of request target and header fields),
  answered 431 (RFC 6585 §5);
* a body deadline: a body that sends nothing for ``body_timeout`` seconds, or that after
  ``body_timeout`` seconds has averaged less than ``body_min_rate`` bytes a second, is
  answered 408 and dropped. The handler sees a disconnect; the LDP edge reads a whole body
  before any transaction, so nothing of it is written. Time in which the server itself
  stopped reading (back-pressure) does not count against the client.
"""

from __future__ import annotations

import asyncio
import http
import json
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from pod.errors import HeadersTooLarge, PodError, RequestTimeout

MAX_HEAD_BYTES = 64 * 1024
READ_SIZE = 256 * 1024  # the most asyncio reads at once: a chunk may hold an earlier body too


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a client may take to send a request (see the module docstring)."""

    header_timeout: float
    body_timeout: float
    body_min_rate: int


class _HeadTooLarge(Exception):
    """Raised in a parser callback; httptools turns it into a parser error."""


class CoalescingTransport:
    """A transport whose small writes of one event-loop step leave in one ``send``: uvicorn
    writes a response's head and body separately, two system calls where one will do. The
    writes go out, in order, at the loop's next step, or at once when large (no copy of a big
    body) or before the transport closes; everything else is the real transport's."""

    COALESCE_BYTES = 64 * 1024

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop = transport, loop
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._size + len(data) > self.COALESCE_BYTES:
            self.flush()
            self._transport.write(data)
            return
        if not self._parts:
            self._loop.call_soon(self.flush)
        self._parts.append(bytes(data))
        self._size += len(data)

    def flush(self) -> None:
        """Hand what was written so far to the real transport."""
        if self._parts:
            data = b"".join(self._parts) if len(self._parts) > 1 else self._parts[0]
            self._parts, self._size = [], 0
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._parts, self._size = [], 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with head and body deadlines and a head size limit."""

    def __init__(self, *args: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._timer: asyncio.TimerHandle | None = None
        self._in_head = False  # a request head has begun and is not complete
        self._head_bytes = self._raw_head_bytes = 0
        self._head_too_large = False
        self._body_start = self._body_last = 0.0
        self._body_bytes = 0

    # --- the request head -------------------------------------------------------------------

    # [override]: as uvicorn's protocol declares it (asyncio's says BaseTransport)
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
        self._arm(self.limits.header_timeout, self._head_expired)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._raw_head_bytes = True, 0, 0
        if self._timer is None:  # a later request: its head's time starts with its first byte
            self._arm(self.limits.header_timeout, self._head_expired)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            # httptools buffers a header line until it ends, before on_header counts it: bound
            # the raw bytes too (all of this chunk but what an earlier message had of it)
            self._raw_head_bytes += len(data)
            if self._raw_head_bytes > MAX_HEAD_BYTES + READ_SIZE:
                self._head_too_large = True
                self.send_400_response("")

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value))
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._head_too_large = True
            raise _HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error, which is how an oversized head surfaces."""
        if self._head_too_large:
            self._refuse(HeadersTooLarge(f"the request line and header fields exceed "
                                         f"{MAX_HEAD_BYTES} bytes"))
        else:
            super().send_400_response(msg)

    def _head_expired(self) -> None:
        self._timer = None
        if not self._in_head:
            self.transport.close()  # not one byte of a request: nobody to answer
        elif self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # pipelined behind a response: close after it
        else:
            self._refuse(RequestTimeout(f"the request head did not arrive within "
                                        f"{self.limits.header_timeout:g} s"))

    # --- the request body -------------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self._cancel()
        self._in_head = False
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.scope is self.scope:  # not an upgrade
            self._body_start = self._body_last = self.loop.time()
            self._body_bytes = 0
            self._arm(self.limits.body_timeout, self._body_check)

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        self._body_last = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel()
        super().on_message_complete()

    def _body_check(self) -> None:
        """Drop a stalled or too slow body; else look again when it could next be."""
        self._timer = None
        now, limits = self.loop.time(), self.limits
        if self.flow.read_paused:  # we stopped reading, not the client: start afresh
            self._body_start = self._body_last = now
            self._body_bytes = 0
        rate = self._body_bytes / limits.body_min_rate if limits.body_min_rate else float("inf")
        deadline = min(self._body_last + limits.body_timeout,
                       self._body_start + limits.body_timeout + rate)
        if now < deadline:
            self._arm(deadline - now, self._body_check)
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            self._refuse(RequestTimeout(f"the request body stalled for {limits.body_timeout:g} s"
                                        f" or came slower than {limits.body_min_rate} bytes/s"))
        else:
            self.transport.close()
        if cycle is not None:  # the handler's next receive() is a disconnect
            cycle.disconnected = True
            cycle.message_event.set()

    # --- shared -----------------------------------------------------------------------------

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _arm(self, delay: float, callback: Any) -> None:
        self._cancel()
        self._timer = self.loop.call_later(delay, callback)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _refuse(self, error: PodError) -> None:
        """Answer ``error`` as problem+json and close, whatever state the request is in."""
        if self.transport.is_closing():
            return
        body = json.dumps({"type": error.type, "title": error.title, "status": error.status,
                           "detail": error.detail}).encode()
        head = (f"HTTP/1.1 {error.status} {http.HTTPStatus(error.status).phrase}\r\n"
                f"content-type: application/problem+json\r\ncontent-length: {len(body)}\r\n"
                "connection: close\r\n\r\n")
        self.transport.write(head.encode() + body)
        self.transport.close()
