"""Per-pod quotas of bytes and resources, against live servers: a write beyond the quota
answers 507 (problem+json) and changes nothing; usage is kept exactly — through deletes,
auxiliary resources, intermediate containers, concurrent writers and restarts — and a pod
without a usage record (made before usage was counted) is measured once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from pod import settings as config
from pod.resources import usage
from pod.runtime import open_runtime
from tests.conftest import Server, cli, new_server

BIN = {"Content-Type": "application/octet-stream"}
TTL = {"Content-Type": "text/turtle"}
QUOTA_PROBLEM = "https://commonpod.org/problems/quota-exceeded"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = new_server(tmp_path_factory.mktemp("quotas"))
    server.start()
    yield server
    server.stop()


def new_pod(server: Server) -> str:
    """A publicly writable pod (so plain HTTP writes), its URL."""
    name = f"q{uuid.uuid4().hex[:8]}"
    return server.create_pod(name, "--public-write")["pod"]


def name_of(pod: str) -> str:
    return pod.rstrip("/").rsplit("/", 1)[1]


def pod_usage(server: Server, pod: str) -> dict[str, object]:
    return json.loads(cli("pod", "usage", name_of(pod), data_dir=server.data_dir).stdout)


def used(server: Server, pod: str) -> tuple[int, int]:
    found = pod_usage(server, pod)["used"]
    return found["bytes"], found["resources"]


def set_quota(server: Server, pod: str, *flags: str) -> dict[str, object]:
    return json.loads(cli("pod", "quota", name_of(pod), *flags,
                          data_dir=server.data_dir).stdout)


def put(url: str, size: int, byte: bytes = b"x") -> httpx.Response:
    return httpx.put(url, content=byte * size, headers=BIN, timeout=20)


def refused(r: httpx.Response) -> dict[str, object]:
    assert r.status_code == 507, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"] == QUOTA_PROBLEM and problem["status"] == 507
    return problem


def test_a_pod_fills_to_its_byte_quota_refuses_more_and_fills_again_after_a_delete(
        srv: Server) -> None:
    pod = new_pod(srv)
    b0, r0 = used(srv, pod)
    shown = set_quota(srv, pod, "--bytes", str(b0 + 1000))
    assert shown["quota"]["bytes"] == b0 + 1000 and shown["own_quota"]["bytes"] == b0 + 1000
    files = pod + "files/"
    assert put(files + "a", 600).status_code == 201
    assert used(srv, pod) == (b0 + 600, r0 + 2)  # files/ and a

    problem = refused(put(files + "b", 401))
    assert problem["quota"]["bytes"] == b0 + 1000
    assert problem["usage"] == {"bytes": b0 + 600, "resources": r0 + 2}
    assert "nothing was written" in problem["detail"]
    assert httpx.get(files + "b").status_code == 404
    assert used(srv, pod) == (b0 + 600, r0 + 2)

    assert put(files + "b", 400).status_code == 201  # exactly full
    assert used(srv, pod) == (b0 + 1000, r0 + 3)
    refused(put(files + "c", 1))
    refused(put(files + "a", 601))  # growing a resource is refused …
    assert httpx.get(files + "a").content == b"x" * 600
    assert put(files + "a", 500, b"y").status_code == 204  # … shrinking one is not
    assert used(srv, pod) == (b0 + 900, r0 + 3)

    assert httpx.delete(files + "a").status_code == 204
    assert used(srv, pod) == (b0 + 400, r0 + 2)
    assert put(files + "c", 600).status_code == 201  # full again, exactly
    assert used(srv, pod) == (b0 + 1000, r0 + 3)
    refused(httpx.post(files, content=b"z", headers=BIN))
    assert "is full" not in srv.log()  # a pod's quota is not reported as a full disk


def test_a_patch_beyond_the_quota_is_refused_and_changes_nothing(srv: Server) -> None:
    pod = new_pod(srv)
    doc = pod + "notes.ttl"
    assert httpx.put(doc, content=b"<#a> <#b> <#c>.", headers=TTL).status_code == 201
    b0, r0 = used(srv, pod)
    set_quota(srv, pod, "--bytes", str(b0 + 10))
    patch = ('@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n_:p a solid:InsertDeletePatch;'
             ' solid:inserts { <#d> <#e> "a text much longer than ten bytes". }.\n')
    refused(httpx.patch(doc, content=patch.encode(), headers={"Content-Type": "text/n3"}))
    assert httpx.get(doc, headers={"Accept": "text/turtle"}).content == b"<#a> <#b> <#c>."
    assert used(srv, pod) == (b0, r0)


def test_resources_count_containers_and_auxiliary_resources_exactly(srv: Server) -> None:
    pod = new_pod(srv)
    b0, r0 = used(srv, pod)
    set_quota(srv, pod, "--resources", str(r0 + 4))
    doc = pod + "deep/er/x"
    assert put(doc, 10).status_code == 201  # deep/, deep/er/ and x
    meta = b'<x> <http://purl.org/dc/terms/title> "x".'
    assert httpx.put(doc + ".meta", content=meta, headers=TTL).status_code == 201
    stored = httpx.get(doc + ".meta", headers={"Accept": "text/turtle"}).content  # as kept
    assert used(srv, pod) == (b0 + 10 + len(stored), r0 + 4)
    refused(httpx.post(pod + "deep/", content=b"1", headers=BIN))
    refused(put(pod + "other/y", 1))  # would add other/ and y
    assert httpx.get(pod + "other/").status_code == 404

    assert httpx.delete(doc).status_code == 204  # x and its .meta
    assert used(srv, pod) == (b0, r0 + 2)
    assert httpx.post(pod + "deep/", content=b"1", headers=BIN).status_code == 201
    assert used(srv, pod) == (b0 + 1, r0 + 3)


def test_deleting_everything_written_returns_to_the_starting_usage(srv: Server) -> None:
    pod = new_pod(srv)
    start = used(srv, pod)
    made = [pod + "a/b/c", pod + "a/d", pod + "e"]
    for i, url in enumerate(made):
        assert put(url, 100 + i).status_code == 201
    assert httpx.put(pod + "a/d.meta", content=b"<d> <#p> 1.", headers=TTL).status_code == 201
    assert httpx.put(pod + "a/", content=b"<> <#title> \"A\".", headers=TTL).status_code == 204
    assert used(srv, pod)[1] == start[1] + 6
    for url in (*made, pod + "a/b/", pod + "a/"):
        assert httpx.delete(url).status_code == 204, url
    assert used(srv, pod) == start


def test_the_access_log_does_not_count_against_the_owner(srv: Server) -> None:
    pod = new_pod(srv)
    assert put(pod + "public", 10).status_code == 201
    before = used(srv, pod)
    for _ in range(20):  # each anonymous read is a record in the owner's access log
        assert httpx.get(pod + "public").status_code == 200
    time.sleep(2.5)  # the log is flushed to the pod every second
    assert used(srv, pod) == before


def test_concurrent_writers_never_pass_the_quota(srv: Server) -> None:
    pod = new_pod(srv)
    assert put(pod + "race/first", 1).status_code == 201  # the container exists
    b0, _ = used(srv, pod)
    set_quota(srv, pod, "--bytes", str(b0 + 1000))
    urls = [f"{pod}race/{i}" for i in range(25)]
    with ThreadPoolExecutor(25) as pool:
        answers = list(pool.map(lambda u: put(u, 100).status_code, urls))
    assert sorted(set(answers)) == [201, 507]
    assert answers.count(201) == 10
    stored = [u for u in urls if httpx.get(u).status_code == 200]
    assert len(stored) == 10
    assert used(srv, pod)[0] == b0 + 1000


def test_the_settings_quota_applies_and_a_pods_own_quota_overrides_it(tmp_path: Path) -> None:
    server = new_server(tmp_path)
    made = server.create_pod("probe", "--public-write")
    _, provisioned = used(server, made["pod"])
    with (server.data_dir / "settings.toml").open("a") as f:  # server and CLI read it
        f.write(f"max_pod_resources = {provisioned + 2}\nmax_pod_bytes = 0\n")
    server.start()
    try:
        pod = new_pod(server)  # provisioning is counted, never refused
        assert pod_usage(server, pod)["quota"] == {"bytes": 0, "resources": provisioned + 2}
        assert put(pod + "1", 1).status_code == 201
        assert put(pod + "2", 1).status_code == 201
        refused(put(pod + "3", 1))
        assert set_quota(server, pod, "--resources", "0")["quota"]["resources"] == 0
        assert put(pod + "3", 1).status_code == 201  # 0: unlimited for this pod
        shown = set_quota(server, pod, "--resources", "default")
        assert shown["own_quota"]["resources"] is None
        refused(put(pod + "4", 1))
    finally:
        server.stop()


def test_a_restart_keeps_the_numbers(fresh_server: Server) -> None:
    fresh_server.start()
    pod = new_pod(fresh_server)
    b0, r0 = used(fresh_server, pod)
    set_quota(fresh_server, pod, "--bytes", str(b0 + 300))
    assert put(pod + "kept/a", 300).status_code == 201
    fresh_server.stop()
    fresh_server.start()
    assert used(fresh_server, pod) == (b0 + 300, r0 + 2)
    refused(put(pod + "kept/b", 1))
    assert httpx.delete(pod + "kept/a").status_code == 204
    assert put(pod + "kept/b", 300).status_code == 201
    assert used(fresh_server, pod) == (b0 + 300, r0 + 2)


async def _forget_usage(data_dir: Path, name: str) -> None:
    """Remove a pod's usage record, as a pod made before usage was counted has none."""
    rt = await open_runtime(config.load({"data_dir": data_dir}, env={}))
    try:
        keys = await rt.pods.find(name)
        assert keys is not None
        async with rt.resources.store.write(keys) as tx:
            assert await tx.delete(usage.RECORD)
    finally:
        await rt.close()


def test_a_pod_without_a_usage_record_is_measured_on_its_first_write(
        fresh_server: Server) -> None:
    fresh_server.start()
    pod = new_pod(fresh_server)
    for url, size in ((pod + "old/a", 70), (pod + "old/deeper/b", 5), (pod + "c", 1)):
        assert put(url, size).status_code == 201
    assert httpx.put(pod + "c.meta", content=b"<c> <#p> 2.", headers=TTL).status_code == 201
    counted = used(fresh_server, pod)
    fresh_server.stop()
    asyncio.run(_forget_usage(fresh_server.data_dir, name_of(pod)))

    fresh_server.start()
    assert put(pod + "old/new", 10).status_code == 201  # the first write measures the pod
    assert used(fresh_server, pod) == (counted[0] + 10, counted[1] + 1)
    fresh_server.stop()
    asyncio.run(_forget_usage(fresh_server.data_dir, name_of(pod)))
    assert used(fresh_server, pod) == (counted[0] + 10, counted[1] + 1)  # `pod usage` too
