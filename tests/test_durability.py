"""Concurrency and crashes: no lost update, and no acknowledged write lost to a SIGKILL."""

from __future__ import annotations

import re
import signal
import threading
import time
import uuid

import httpx

from tests.conftest import Server

TTL = {"Content-Type": "text/turtle"}
COUNT = re.compile(rb'"(\d+)"')


def _counter(n: int) -> bytes:
    return f'<#c> <http://ex.org/count> "{n}" .'.encode()


def _patch(old: int, new: int) -> bytes:
    return (b"@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            b"_:p a solid:InsertDeletePatch;\n"
            b' solid:deletes { <#c> <http://ex.org/count> "%d" };\n'
            b' solid:inserts { <#c> <http://ex.org/count> "%d" }.' % (old, new))


def test_ten_clients_with_if_match_never_lose_an_update(server: Server, pub: str) -> None:
    url = server.base + pub[1:] + "counter.ttl"
    assert httpx.put(url, content=_counter(0), headers=TTL).status_code == 201
    per_client, errors = 10, []

    def client(use_patch: bool) -> None:
        with httpx.Client(timeout=10) as c:
            done = 0
            while done < per_client:
                got = c.get(url, headers={"Accept": "text/turtle"})
                n = int(COUNT.search(got.content)[1])
                headers = {"If-Match": got.headers["ETag"]}
                if use_patch:
                    r = c.patch(url, content=_patch(n, n + 1),
                                headers={**headers, "Content-Type": "text/n3"})
                else:
                    r = c.put(url, content=_counter(n + 1), headers={**headers, **TTL})
                if r.status_code in (200, 204):
                    done += 1
                elif r.status_code != 412:
                    errors.append((r.status_code, r.text))
                    return

    threads = [threading.Thread(target=client, args=(i % 2 == 0,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    final = httpx.get(url).content
    assert int(COUNT.search(final)[1]) == 10 * per_client


def test_sigkill_under_write_load_loses_no_acknowledged_write(fresh_server: Server) -> None:
    srv = fresh_server
    srv.create_pod("crash", "--public-write")
    srv.start()
    base = srv.base + "crash/load/"
    acked_puts: dict[int, int] = {}
    acked_posts: list[str] = []
    stop = threading.Event()

    def writer(i: int) -> None:
        with httpx.Client(timeout=5) as c:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = c.put(f"{base}w{i}.ttl", content=_counter(n), headers=TTL)
                    if r.status_code in (201, 204):
                        acked_puts[i] = n
                    p = c.post(base, content=_counter(n), headers={**TTL, "Slug": f"p{i}-{n}"})
                    if p.status_code == 201:
                        acked_posts.append(p.headers["Location"])
                except httpx.TransportError:
                    return

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    srv.stop(signal.SIGKILL)
    stop.set()
    for t in threads:
        t.join()
    assert len(acked_posts) > 20, "the load did not get going before the kill"

    srv.start()
    with httpx.Client(timeout=10) as c:
        for i, n in acked_puts.items():
            got = c.get(f"{base}w{i}.ttl")
            assert got.status_code == 200
            assert int(COUNT.search(got.content)[1]) >= n  # the acked one, or a later one
        listing = c.get(base).content
        for location in acked_posts:
            assert location.encode() in listing
            assert c.get(location).status_code == 200
        # the store still takes writes and nothing is corrupted
        extra = f"{base}{uuid.uuid4().hex}.ttl"
        assert c.put(extra, content=_counter(1), headers=TTL).status_code == 201
