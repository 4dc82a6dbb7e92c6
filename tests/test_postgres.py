"""The PostgreSQL store beyond the shared contract: several processes on one database, its
versioned schema, a bad or unreachable `store` refused at start, a database that goes away
while the server runs (503, nothing written, and back once it returns), and a full disk (507,
and writes succeed again once there is space)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pod.store.backends import open_backend
from pod.store.base import CopyableBackend
from tests.conftest import cli, new_server
from tests.postgres import admin_url, database_name, fetch, fresh_database, run_sql

POD = b"p" * 16


def test_two_processes_on_one_database_serialise_writes_of_a_pod() -> None:
    """Two backends (two pools, as two server processes would have) bump one counter
    concurrently: the pod's advisory lock lets no update be lost."""
    async def bump(backend: CopyableBackend) -> None:
        async with backend.write(POD) as tx:
            rec = await tx.get(b"n")
            n = int(rec.value) if rec else 0
            await asyncio.sleep(0.001)  # every chance to interleave
            await tx.put(b"n", str(n + 1).encode(), b"v")

    async def go(url: str) -> None:
        one, two = await open_backend(url), await open_backend(url)
        try:
            await asyncio.gather(*(bump(b) for _ in range(25) for b in (one, two)))
            async with one.read(POD) as r:
                assert (await r.get(b"n")).value == b"50"
        finally:
            await one.close()
            await two.close()

    with fresh_database() as url:
        asyncio.run(go(url))


def test_the_schema_is_versioned_and_a_newer_one_is_refused(tmp_path: Path) -> None:
    with fresh_database() as url:
        srv = new_server(tmp_path, store=url)
        assert run_sql(url, "SELECT version FROM schema_version ORDER BY version")[0] == \
            [(1,), (2,), (3,), (4,)]
        tables = run_sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                              "ORDER BY tablename")[0]
        assert tables == [("events",), ("keyring",), ("marks",), ("messages",), ("pods",),
                          ("records",), ("schema_version",)]
        # a second deployment is never initialised over it (another master key would make
        # the first one's data unreadable)
        other = tmp_path / "other"
        done = cli("init", "--store", url, data_dir=other, check=False)
        assert done.returncode != 0 and "already holds a Commonpod keyring" in done.stderr
        assert not (other / "master.key").exists() and not (other / "settings.toml").exists()
        run_sql(url, "INSERT INTO schema_version VALUES (99, now())")
        done = cli("serve", "--port", str(srv.port), data_dir=srv.data_dir, check=False)
        assert done.returncode != 0
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "schema version 99" in done.stderr and "upgrade Commonpod" in done.stderr


def test_a_bad_or_unreachable_store_is_refused_in_one_line_without_its_password(
        tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    cases = {
        "postgresql://alice:s3cr3t-pw@127.0.0.1:1/commonpod": "cannot use the PostgreSQL",
        "postgresql://alice:s3cr3t-pw@127.0.0.1:notaport/commonpod": "not a usable PostgreSQL",
        "mysql://alice:s3cr3t-pw@127.0.0.1/commonpod": "must be a SQLite file path",
        "relative/commonpod.db": "must be an absolute path",
    }
    for store, complaint in cases.items():
        for argv, env in ((("serve", "--store", store), {}),
                          (("serve",), {"COMMONPOD_STORE": store})):
            done = cli(*argv, "--data-dir", data, "--port", "1", check=False, env=env)
            assert done.returncode != 0, store
            assert done.stderr.startswith("commonpod: error: store"), done.stderr
            assert complaint in done.stderr, done.stderr
            assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
            assert "s3cr3t-pw" not in done.stderr + done.stdout


def test_a_database_that_goes_away_answers_503_and_nothing_is_written(tmp_path: Path) -> None:
    with fresh_database() as url:
        srv = new_server(tmp_path, store=url)
        srv.create_pod("pub", "--public-write")
        srv.start()
        doc = srv.base + "pub/doc.txt"
        try:
            with httpx.Client(timeout=30) as c:
                assert c.put(doc, content=b"before", headers={"Content-Type": "text/plain"}
                             ).status_code == 201
                _close(url, allow=False)
                for _ in range(3):
                    put = c.put(doc, content=b"after", headers={"Content-Type": "text/plain"})
                    assert put.status_code == 503, put.text
                    assert put.headers["content-type"] == "application/problem+json"
                    assert put.headers["retry-after"] == "5"
                    assert "Traceback" not in put.text and "asyncpg" not in put.text
                    assert c.get(doc).status_code == 503
                _close(url, allow=True)
                deadline = time.monotonic() + 10
                while (got := c.get(doc)).status_code == 503 and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert (got.status_code, got.content) == (200, b"before")
                assert c.put(doc, content=b"after", headers={"Content-Type": "text/plain"}
                             ).status_code in (200, 204, 205)
                assert c.get(doc).content == b"after"
                # a public read is logged; the database goes away before the log's flush, and
                # the server still stops cleanly, saying what it could not write
                c.get(doc)
                _close(url, allow=False)
        finally:
            srv.stop()
        assert "shutdown failed" not in srv.log() and "unhandled error" not in srv.log()


def _close(url: str, *, allow: bool) -> None:
    """Open or close the test's database to connections; closing ends the open ones."""
    name = database_name(url)
    statements = [f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}']
    if not allow:
        statements.append("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608
                          f"WHERE datname = '{name}' AND pid <> pg_backend_pid()")  # (our name)
    run_sql(admin_url(), *statements)


@pytest.fixture
def small_tablespace() -> Iterator[tuple[str, Path]]:
    """A PostgreSQL tablespace on a 512 kB tmpfs of its own (name, mount point): the database
    server answers a full one exactly as a full disk (SQLSTATE 53100). Mounting needs root:
    the test skips, saying why, where that is not allowed."""
    mount = Path(f"/tmp/cp-pgfull-{uuid.uuid4().hex[:12]}")  # postgres must reach it
    name = f"cp_full_{uuid.uuid4().hex[:12]}"
    mount.mkdir(mode=0o700)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs",
                           str(mount)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip()}): needs root")
    try:
        owner = fetch(admin_url(), "SELECT setting FROM pg_settings WHERE name = "
                                   "'data_directory'")[0][0]
        stat = os.stat(str(owner))
        os.chown(mount, stat.st_uid, stat.st_gid)
        run_sql(admin_url(), f"CREATE TABLESPACE {name} LOCATION '{mount}'")
        try:
            yield name, mount
        finally:
            run_sql(admin_url(), f"DROP TABLESPACE IF EXISTS {name}")
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        mount.rmdir()


def test_a_full_disk_answers_507_and_writes_succeed_again(
        tmp_path: Path, small_tablespace: tuple[str, Path]) -> None:
    space, mount = small_tablespace
    with fresh_database() as url:
        srv = new_server(tmp_path, store=url)
        srv.create_pod("pub", "--public-write")
        run_sql(url, f"ALTER TABLE records SET TABLESPACE {space}")  # the records fill it
        srv.start()
        binary = {"Content-Type": "application/octet-stream"}
        try:
            with httpx.Client(timeout=30) as c:
                stored: dict[str, bytes] = {}
                for n in range(64):
                    body = os.urandom(32 * 1024)
                    put = c.put(f"{srv.base}pub/f{n}", content=body, headers=binary)
                    if put.status_code == 507:
                        break
                    assert put.status_code == 201, put.text
                    stored[f"pub/f{n}"] = body
                else:
                    raise AssertionError("512 kB never filled up")
                assert put.headers["content-type"] == "application/problem+json"
                assert put.json()["type"].endswith("/insufficient-storage")
                assert stored, "some writes fit before the disk was full"
                assert c.get(f"{srv.base}pub/f{n}").status_code == 404  # nothing of it
                for path, body in stored.items():  # every acknowledged write is there
                    assert c.get(srv.base + path).content == body
                subprocess.run(["mount", "-o", "remount,size=8m", str(mount)], check=True)
                again = c.put(f"{srv.base}pub/f{n}", content=b"fits now", headers=binary)
                assert again.status_code == 201, again.text
                assert c.get(f"{srv.base}pub/f{n}").content == b"fits now"
        finally:
            srv.stop()
