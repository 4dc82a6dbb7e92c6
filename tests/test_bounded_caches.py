"""Every in-memory cache has a bound set by a setting (issue #16): out-of-range sizes stop the
server with the setting's name, and a server whose caches are far smaller than its pods still
answers every pod right, as entries are evicted and read again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from pod.resources.provision import create_pod
from pod.runtime import open_runtime
from pod.settings import load as load_settings
from tests.conftest import cli, free_port, new_server


def test_cache_and_storage_settings_out_of_range_refuse_to_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cli("init", "--base-url", "http://127.0.0.1:8000/", data_dir=data)
    port = str(free_port())
    for name, value in (("CACHE_PODS", "5"), ("CACHE_ACLS", "many"),
                        ("SQLITE_MMAP_MB", "-1"), ("SQLITE_CACHE_MB", "0")):
        bad = cli("serve", "--port", port, data_dir=data, check=False,
                  env={f"COMMONPOD_{name}": value})
        assert bad.returncode != 0, name
        assert name.lower() in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_caches_far_smaller_than_the_pods_still_answer_every_pod_right(tmp_path: Path) -> None:
    """300 pods behind caches of 100 pods and 100 ACLs (memory-mapped reads off): three passes
    over every pod, each evicting what the last one cached, give every pod its own profile and
    keep every private container closed."""
    srv = new_server(tmp_path)
    names = [f"cached{i}" for i in range(300)]

    async def provision() -> None:
        rt = await open_runtime(load_settings({"data_dir": srv.data_dir}))
        try:
            for name in names:
                await create_pod(rt.pods, rt.resources, name)
        finally:
            await rt.close()

    asyncio.run(provision())
    srv.env = {"COMMONPOD_CACHE_PODS": "100", "COMMONPOD_CACHE_ACLS": "100",
               "COMMONPOD_SQLITE_MMAP_MB": "0"}
    srv.start()
    try:
        with httpx.Client(base_url=srv.base, timeout=20) as c:
            for _ in range(3):
                for name in names:
                    card = c.get(f"/{name}/profile/card", headers={"Accept": "text/turtle"})
                    assert card.status_code == 200
                    assert f"/{name}/profile/card#me" in card.text
                    assert c.get(f"/{name}/inbox/").status_code == 401
    finally:
        srv.stop()
