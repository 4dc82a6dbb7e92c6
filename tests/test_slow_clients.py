"""Slow clients cannot hold the server (#9 §2): request heads and bodies have deadlines, a
head has a size limit, and connections are capped — against a real server process.

The servers here get short deadlines (3 s) through ``COMMONPOD_*`` variables. Every bound
checked below is a generous "did not stall" bound (deadline + :data:`SLACK`), never a
measurement of how fast the server is.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, cli, free_port, new_server

DEADLINE = 3
SLACK = 12
LIMITS = {"COMMONPOD_HEADER_TIMEOUT": str(DEADLINE), "COMMONPOD_BODY_TIMEOUT": str(DEADLINE),
          "COMMONPOD_BODY_MIN_RATE": "100"}


def _server(tmp: pytest.TempPathFactory, name: str, **env: str) -> Iterator[Server]:
    srv = new_server(tmp.mktemp(name))
    srv.env = {**LIMITS, **env}
    srv.create_pod("pub", "--public-write")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _server(tmp_path_factory, "limited")


def _connect(srv: Server, first: bytes = b"") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    if first:
        s.sendall(first)
    return s


def _until_closed(s: socket.socket, by: float) -> bytes:
    """Everything the server sends until it closes the connection, which it must by ``by``
    (a monotonic time). A reset counts as closed: the server may close with unread input."""
    got = b""
    try:
        while True:
            s.settimeout(max(0.05, by - time.monotonic()))
            chunk = s.recv(65536)
            if not chunk:
                return got
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        return got
    except TimeoutError:
        pytest.fail(f"the server held a slow connection open past its deadline: {got[:80]!r}")
    finally:
        s.close()


def _put_head(path: str, length: int) -> bytes:
    return (f"PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def test_trickling_heads_are_cut_off_while_others_are_served(limited: Server) -> None:
    """500 connections trickling one header line a second, and 50 that send nothing."""
    trickling = [_connect(limited, b"GET /pub/ HTTP/1.1\r\nHost: x\r\n") for _ in range(500)]
    silent = [_connect(limited) for _ in range(50)]
    by = time.monotonic() + DEADLINE + SLACK
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            for s in trickling:
                with contextlib.suppress(OSError):  # closed by the server, as it should be
                    s.sendall(b"X-Slow: 1\r\n")
            stop.wait(1)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        for _ in range(10):  # meanwhile other connections are answered as usual
            r = httpx.get(limited.base + "pub/", timeout=10)
            assert r.status_code == 200
            time.sleep(0.2)
        answers = [_until_closed(s, by) for s in trickling]
        assert all(not a or a.startswith(b"HTTP/1.1 408 ") for a in answers)
        assert any(a.startswith(b"HTTP/1.1 408 ") for a in answers)
        assert all(_until_closed(s, by) == b"" for s in silent)  # nobody to answer
    finally:
        stop.set()
        thread.join()
    assert httpx.get(limited.base + "pub/", timeout=10).status_code == 200


def test_a_stalled_body_is_dropped_and_nothing_is_written(limited: Server) -> None:
    s = _connect(limited, _put_head("/pub/stalled.txt", 100) + b"only ten b")
    got = _until_closed(s, time.monotonic() + DEADLINE + SLACK)
    assert got.startswith(b"HTTP/1.1 408 ") and b"request-timeout" in got, got
    assert httpx.get(limited.base + "pub/stalled.txt").status_code == 404


def test_a_body_slower_than_the_minimum_rate_is_dropped(limited: Server) -> None:
    """Two bytes a second never stall for the idle timeout, but average under 100 bytes/s."""
    s = _connect(limited, _put_head("/pub/trickled.txt", 1000))
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            try:
                s.sendall(b"x")
            except OSError:
                return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        got = _until_closed(s, time.monotonic() + DEADLINE + SLACK)
    finally:
        stop.set()
        thread.join()
    assert not got or got.startswith(b"HTTP/1.1 408 "), got
    assert httpx.get(limited.base + "pub/trickled.txt").status_code == 404


def test_a_body_with_short_pauses_is_accepted(limited: Server) -> None:
    s = _connect(limited, _put_head("/pub/paused.txt", 6000))
    for _ in range(3):
        time.sleep(1)  # well under the 3 s idle timeout; 2000 bytes/s is over the minimum
        s.sendall(b"y" * 2000)
    s.settimeout(10)
    assert s.recv(65536).startswith(b"HTTP/1.1 201 ")
    s.close()
    assert httpx.get(limited.base + "pub/paused.txt").content == b"y" * 6000


def test_an_oversized_head_is_refused_with_431(limited: Server) -> None:
    by = time.monotonic() + SLACK
    big = _connect(limited, b"GET /pub/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100_000
                   + b"\r\n\r\n")
    assert _until_closed(big, by).startswith(b"HTTP/1.1 431 ")
    # a header line that never ends is refused once it outgrows the bound (431, where the
    # head deadline would say 408): 336 KiB is past 64 KiB + one 256 KiB read
    endless = _connect(limited, b"GET /pub/ HTTP/1.1\r\nHost: x\r\nX-Endless: ")
    for _ in range(21):
        endless.sendall(b"b" * 16384)
        time.sleep(0.02)  # let the server read as we go, so it closes with nothing unread
    got = _until_closed(endless, time.monotonic() + DEADLINE + SLACK)
    assert got.startswith(b"HTTP/1.1 431 "), got


@pytest.fixture
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _server(tmp_path_factory, "capped", COMMONPOD_MAX_CONNECTIONS="20")


def test_connections_beyond_the_cap_answer_503_until_the_idle_ones_are_gone(
        capped: Server) -> None:
    idle = [_connect(capped) for _ in range(25)]
    r = httpx.get(capped.base + "pub/", timeout=10)
    assert r.status_code == 503
    by = time.monotonic() + DEADLINE + SLACK
    assert all(_until_closed(s, by) == b"" for s in idle)
    assert httpx.get(capped.base + "pub/", timeout=10).status_code == 200


def test_limits_out_of_range_or_beyond_the_open_files_limit_are_refused(tmp_path: Path
                                                                        ) -> None:
    srv = new_server(tmp_path)
    for env, message in [({"COMMONPOD_HEADER_TIMEOUT": "0"}, "header_timeout"),
                         ({"COMMONPOD_BODY_TIMEOUT": "7200"}, "body_timeout"),
                         ({"COMMONPOD_BODY_MIN_RATE": "-1"}, "body_min_rate"),
                         ({"COMMONPOD_MAX_CONNECTIONS": "0"}, "max_connections")]:
        done = cli("serve", "--port", str(free_port()), data_dir=srv.data_dir, env=env,
                   check=False)
        assert done.returncode != 0 and message in done.stderr, done.stderr
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 1_000_000:
        done = cli("serve", "--port", str(free_port()), data_dir=srv.data_dir, check=False,
                   env={"COMMONPOD_MAX_CONNECTIONS": "1000000"})
        assert done.returncode != 0 and "ulimit -n" in done.stderr, done.stderr


def _response(s: socket.socket, buffered: bytes) -> tuple[bytes, bytes, bytes]:
    """One response off ``s`` (Content-Length framed): head, body and what followed it."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    while len(rest) < length:
        chunk = s.recv(65536)
        assert chunk, (head, len(rest))
        rest += chunk
    return head, rest[:length], rest[length:]


def test_responses_go_out_whole_and_in_order(limited: Server) -> None:
    """A response's head and body leave together (one send) but never out of order: three
    pipelined GETs, small and large (beyond what is gathered into one send), come back in
    the order asked, each whole, and one asking to close gets its whole body before the
    close."""
    small, large = b"<#a> <#b> \"small\" .\n", b"<#a> <#b> \"" + b"x" * 300_000 + b"\" .\n"
    for name, body in (("small.ttl", small), ("large.ttl", large)):
        assert httpx.put(f"{limited.base}pub/{name}", content=body,
                         headers={"Content-Type": "text/turtle"}).status_code in (201, 204)
    get = "GET /pub/{} HTTP/1.1\r\nHost: x\r\nAccept: text/turtle\r\n\r\n"
    with contextlib.closing(_connect(limited, "".join(
            get.format(n) for n in ("small.ttl", "large.ttl", "small.ttl")).encode())) as s:
        rest = b""
        for expected in (small, large, small):
            head, body, rest = _response(s, rest)
            assert head.startswith(b"HTTP/1.1 200"), head
            if expected is large:
                assert b"x" * 300_000 in body
            else:
                assert b'"small"' in body and len(body) < 1000
    closing = "GET /pub/large.ttl HTTP/1.1\r\nHost: x\r\nAccept: text/turtle\r\n" \
              "Connection: close\r\n\r\n"
    with contextlib.closing(_connect(limited, closing.encode())) as s:
        whole = _until_closed(s, time.monotonic() + SLACK)
    head, _, body = whole.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"x" * 300_000 in body
