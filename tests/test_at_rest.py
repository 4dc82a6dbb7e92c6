"""The database alone reveals nothing: no names, paths, triples, literals or content types —
nor the topics of notification channels and the notifications passed between processes — and
deleting a pod shreds its key first."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from pod.errors import IntegrityError
from pod.runtime import open_runtime
from pod.settings import load as load_settings
from pod.store.sealed import PodKeys
from tests.conftest import Server, cli, new_server
from tests.postgres import admin_url, fetch, fresh_database

SECRETS = {
    "pod name": b"zebrapodxq",
    "container": b"quokkafolder",
    "document name": b"narwhalnotes",
    "literal": b"Ultramarine pangolin recipe 8127",
    "predicate": b"http://example.org/vocab#flamingoScore",
    "binary content": b"\x89PNG-axolotl-bytes-4411",
    "content type": b"application/x-ocelot",
    "rdf content type": b"text/turtle",
}


def _database_bytes(data_dir: Path) -> bytes:
    files = [p for p in data_dir.iterdir() if p.name.startswith("commonpod.db")]
    assert any(p.name.endswith("-wal") for p in files), "expected a WAL file to scan too"
    return b"".join(p.read_bytes() for p in files)


def _variants(secret: bytes) -> list[bytes]:
    text = secret.decode("latin-1")
    return [secret, text.encode("utf-16-le"), text.encode("utf-16-be")]


def test_database_files_hold_no_plaintext(fresh_server: Server) -> None:
    srv = fresh_server
    srv.create_pod("zebrapodxq", "--public-write")
    srv.start()
    _put_secrets(srv)
    # the live WAL is scanned as it is, before any checkpoint
    blob = _database_bytes(srv.data_dir)
    for label, secret in SECRETS.items():
        for variant in _variants(secret):
            assert variant not in blob, f"{label} found in plaintext in the database"
    srv.stop(signal.SIGKILL)
    blob = _database_bytes(srv.data_dir)
    assert SECRETS["literal"] not in blob and SECRETS["pod name"] not in blob


def _put_secrets(srv: Server) -> None:
    """Write the secrets — with a socket subscribed to the document, so its notification
    (naming pod, container and document) goes through the store's message feed too."""
    base = srv.base + "zebrapodxq/quokkafolder/"
    with httpx.Client(timeout=10) as c:
        body = (f'<#it> <{SECRETS["predicate"].decode()}> '
                f'"{SECRETS["literal"].decode()}" .').encode()
        made = c.post(srv.base + ".notifications/WebSocketChannel2023/", json={
            "@context": ["https://www.w3.org/ns/solid/notification/v1"],
            "type": "WebSocketChannel2023", "topic": base + "narwhalnotes.ttl"})
        assert made.status_code == 200, made.text
        with connect(made.json()["receiveFrom"], open_timeout=10) as ws:
            assert c.put(base + "narwhalnotes.ttl", content=body,
                         headers={"Content-Type": "text/turtle"}).status_code == 201
            assert json.loads(ws.recv(timeout=5))["object"] == base + "narwhalnotes.ttl"
        assert c.put(base + "pic", content=SECRETS["binary content"],
                     headers={"Content-Type": "application/x-ocelot"}).status_code == 201
        assert SECRETS["literal"] in c.get(base + "narwhalnotes.ttl").content


def test_postgres_dumps_and_wal_hold_no_plaintext(tmp_path: Path) -> None:
    """The same scan against a PostgreSQL store: its dumps (plain SQL, where bytea is hex, and
    the archive format uncompressed) and the WAL the writes produced, read from the server."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        reason = "pg_dump is not installed (apt-get install postgresql-client)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with fresh_database() as url:
        admin = admin_url()
        # a checkpoint now, so that no timed one recycles the segments this test writes
        fetch(admin, "CHECKPOINT")
        ((start,),) = fetch(admin, "SELECT pg_walfile_name(pg_current_wal_lsn())")
        srv = new_server(tmp_path, store=url)
        srv.create_pod("zebrapodxq", "--public-write")
        srv.start()
        try:
            _put_secrets(srv)
        finally:
            srv.stop()
        dumps = [subprocess.run([pg_dump, *flags, "--dbname", url], capture_output=True,
                                check=True, timeout=60).stdout
                 for flags in ([], ["--format=custom", "--compress=0"], ["--inserts"])]
        values = [v for (v,) in fetch(url, "SELECT value FROM records")]
        ((end,),) = fetch(admin, "SELECT pg_walfile_name(pg_current_wal_lsn())")
        wal = fetch(admin, "SELECT name FROM pg_ls_waldir() WHERE name BETWEEN $1 AND $2",
                    start, end)  # the segments written since the test began
        segments = [fetch(admin, "SELECT pg_read_binary_file('pg_wal/' || $1)", name)[0][0]
                    for (name,) in wal]
    # the scans see the stored rows: every sealed value is in each dump and in the WAL (the
    # WAL splits values over ~2 kB into chunks: their first bytes are found)
    plain, custom, inserts = dumps
    assert b"COPY public.records" in plain and b"INSERT INTO public.records" in inserts
    in_wal = 0
    for value in values:
        assert isinstance(value, bytes)
        assert value.hex().encode() in plain and value.hex().encode() in inserts
        assert value in custom or value.hex().encode() in custom
        in_wal += any(isinstance(seg, bytes) and value[:512] in seg for seg in segments)
    # most, not all: a row updated in place on its page may be logged as its changed middle
    # only (PostgreSQL's prefix/suffix compression of heap updates)
    assert values and in_wal >= 0.8 * len(values), f"{in_wal} of {len(values)} values in the WAL"
    for where, blob in [("pg_dump", b"".join(dumps)),
                        ("WAL", b"".join(seg for seg in segments if isinstance(seg, bytes)))]:
        for label, secret in SECRETS.items():
            for variant in [*_variants(secret), secret.hex().encode(),
                            secret.hex().upper().encode()]:
                assert variant not in blob, f"{label} found in plaintext in the {where}"


def test_deleted_pod_rows_cannot_be_opened_even_with_master_key(fresh_server: Server) -> None:
    srv = fresh_server
    srv.create_pod("shredme", "--public-write")
    srv.start()
    url = srv.base + "shredme/doc.ttl"
    assert httpx.put(url, content=b'<#a> <http://ex.org/p> "gone soon" .',
                     headers={"Content-Type": "text/turtle"}).status_code == 201
    srv.stop()
    db = srv.data_dir / "commonpod.db"
    with sqlite3.connect(db) as conn:
        (pod_id,) = conn.execute("SELECT pod_id FROM pods").fetchone()
        rows = conn.execute("SELECT pod_id, key, version, value FROM records WHERE pod_id = ?",
                            (pod_id,)).fetchall()
    assert rows
    cli("pod", "delete", "shredme", data_dir=srv.data_dir)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM pods").fetchone() == (0,)
        # rows left behind (say, by a crash between the key's deletion and the rows')
        conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", rows)
    # a new pod of the same name gets a new key: the old rows stay unreadable
    srv.create_pod("shredme", "--public-write")
    srv.start()
    assert httpx.get(url).status_code == 404
    srv.stop()
    # even the operator, holding the master key, has no key that opens the orphaned rows
    candidates = asyncio.run(_every_key_the_operator_has(srv.data_dir))
    for _, key, version, value in rows:
        for candidate in candidates:
            with pytest.raises(IntegrityError):
                PodKeys(pod_id, candidate).open(key, version, value)


async def _every_key_the_operator_has(data_dir: Path) -> list[bytes]:
    settings = load_settings({"data_dir": data_dir})
    rt = await open_runtime(settings)
    try:
        pod_keys = [rt.keyring.unwrap_pod_key(row) async for row in rt.backend.pods()]
    finally:
        await rt.close()
    return [rt.keyring.master, rt.keyring.server, *pod_keys]


def test_a_sealed_value_moved_to_another_row_fails_loudly(fresh_server: Server) -> None:
    srv = fresh_server
    srv.create_pod("one", "--public-write")
    srv.create_pod("two", "--public-write")
    srv.start()
    docs = {"one/a.ttl": b'<#a> <http://ex.org/p> "alpha" .',
            "one/b.ttl": b'<#b> <http://ex.org/p> "bravo" .',
            "two/c.ttl": b'<#c> <http://ex.org/p> "charlie" .'}
    for path, body in docs.items():
        assert httpx.put(srv.base + path, content=body,
                         headers={"Content-Type": "text/turtle"}).status_code == 201
    before = {p: httpx.get(srv.base + p) for p in docs}
    srv.stop()
    db = srv.data_dir / "commonpod.db"
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT pod_id, key, version, value FROM records "
                            "WHERE pod_id != ?", (bytes(16),)).fetchall()  # pod data only
    # rows are blinded, so rotate every value (with its version) into the next row: each
    # resource, ACL and container then holds a value sealed for somewhere else
    with sqlite3.connect(db) as conn:
        values = [(r[2], r[3]) for r in rows]
        for (pod_id, key), (version, value) in zip(
                [(r[0], r[1]) for r in rows], values[1:] + values[:1], strict=True):
            conn.execute("UPDATE records SET version = ?, value = ? WHERE pod_id = ? AND key = ?",
                         (version, value, pod_id, key))
    srv.start()
    for path, old in before.items():
        got = httpx.get(srv.base + path)
        assert got.status_code == 500, "a moved value must never be served as if it were valid"
        assert got.headers["content-type"] == "application/problem+json"
        assert old.content not in got.content
        for body in docs.values():
            assert body not in got.content
    assert "IntegrityError" in srv.log()


def test_a_damaged_server_record_stops_the_server_from_starting(fresh_server: Server) -> None:
    srv = fresh_server
    srv.start()  # first start makes the signing key (a sealed server record)
    srv.stop()
    with sqlite3.connect(srv.data_dir / "commonpod.db") as conn:
        conn.execute("UPDATE records SET value = zeroblob(length(value)) WHERE pod_id = ?",
                      (bytes(16),))
    done = cli("serve", "--port", str(srv.port), data_dir=srv.data_dir, check=False)
    assert done.returncode != 0
    assert "refusing to start" in done.stderr and "Traceback" not in done.stderr
