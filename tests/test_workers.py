"""``commonpod serve --workers N``: N processes behind one port, sharing the store, answering as
one server — a proof, a failed sign-in, a grant counts the same whichever worker sees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, Server, new_server
from tests.dpop import DPoPClient, dpop_headers


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Server, subprocess.Popen[bytes]]]:
    """A server started with ``serve --workers 2`` (its account ``alice``)."""
    srv = new_server(tmp_path)
    srv.who = srv.create_account("alice")  # type: ignore[attr-defined]
    log = (tmp_path / "workers.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "pod", "serve", "--data-dir", str(srv.data_dir), "--port",
         str(srv.port), "--workers", "2"], cwd=ROOT, stdout=log, stderr=log,
        env=dict(os.environ))
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "workers.log").read_text()
            try:
                if httpx.get(srv.base + ".well-known/solid", timeout=1).status_code == 200 \
                        and len(_children(process.pid)) >= 2:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        yield srv, process
    finally:
        kids = _children(process.pid) if process.poll() is None else []
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        deadline = time.monotonic() + 15
        while [k for k in kids if _running(k)] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [k for k in kids if _running(k)]  # every worker ends with the supervisor


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_two_workers_serve_one_port_and_stop_together(
        workers: tuple[Server, subprocess.Popen[bytes]]) -> None:
    srv, process = workers
    kids = _children(process.pid)
    assert len(kids) >= 2  # uvicorn's supervisor (process) with its worker processes
    served = set()
    for _ in range(40):  # fresh connections: the kernel spreads them over the workers
        r = httpx.get(srv.base + "alice/profile/card", headers={"Connection": "close"},
                      timeout=10)
        assert r.status_code == 200
        served.add(r.headers.get("etag"))
    assert len(served) == 1  # one store: every worker gives the same version


def test_a_dpop_proof_is_accepted_once_whichever_worker_receives_it(
        workers: tuple[Server, subprocess.Popen[bytes]]) -> None:
    """The same proof sent ten times, each time on a new connection (so to either worker):
    exactly one is accepted."""
    srv, _ = workers
    client = DPoPClient(srv.base, srv.who)  # type: ignore[attr-defined]
    url = srv.base + "alice/"
    headers = dpop_headers(client.key, client.token, "GET", url)
    codes = [httpx.get(url, headers={**headers, "Connection": "close"}, timeout=10).status_code
             for _ in range(10)]
    assert codes.count(200) == 1 and codes.count(401) == 9, codes


def test_failed_sign_ins_count_across_workers(
        workers: tuple[Server, subprocess.Popen[bytes]]) -> None:
    """Wrong passwords for one account from one address, each on a new connection: after the
    free failures the next try is refused with 429 whichever worker answers it."""
    srv, _ = workers
    login = srv.base + ".account/login"
    answers = []
    for _ in range(6):
        with httpx.Client(timeout=10) as browser:
            page = browser.get(login)
            token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            r = browser.post(login, data={"csrf": token, "name": "alice",
                                          "password": "not the password"},
                             headers={"Connection": "close"})
            answers.append(r.status_code)
    assert answers[:3] == [400, 400, 400], answers
    assert all(code == 429 for code in answers[3:]), answers
