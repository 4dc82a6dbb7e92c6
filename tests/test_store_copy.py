"""`commonpod store copy`: a deployment moved SQLite → PostgreSQL → SQLite, sealed rows as they
are, and a server reading the copied data each time."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.conftest import Server, cli, new_server
from tests.postgres import fetch, fresh_database

TEXT = {"Content-Type": "text/plain"}


def _with_password(url: str) -> str:
    """The URL with a password in it (trust auth ignores it): it must never be printed."""
    parts = urlsplit(url)
    user = parts.username or getpass.getuser()
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:pw-never-shown@{host}").geturl()


def _serve(srv: Server, store: str) -> Server:
    srv.env = {"COMMONPOD_STORE": store}
    return srv.start()


def test_copy_round_trip_sqlite_postgres_sqlite(tmp_path: Path) -> None:
    srv = new_server(tmp_path)
    srv.create_pod("pub", "--public-write")
    srv.start()
    first = srv.base + "pub/first.txt"
    assert httpx.put(first, content=b"written on SQLite", headers=TEXT).status_code == 201
    srv.stop()
    sqlite_db = srv.data_dir / "commonpod.db"

    with fresh_database() as plain_url:
        url = _with_password(plain_url)
        done = cli("store", "copy", "--from", str(sqlite_db), "--to", url)
        summary = json.loads(done.stdout)
        assert summary["verified"] is True
        assert "pw-never-shown" not in done.stdout + done.stderr and "***" in summary["to"]
        assert summary["rows"]["keyring"] == 1 and summary["rows"]["pods"] == 1
        records = fetch(plain_url, "SELECT pod_id, key, version, value FROM records "
                                   "ORDER BY pod_id, key")
        assert summary["rows"]["records"] == len(records) > 0
        assert summary["bytes"] >= sum(len(r[3]) for r in records)  # type: ignore[arg-type]

        # the rows are the very bytes SQLite held: sealed, never opened on the way
        import sqlite3
        with sqlite3.connect(sqlite_db) as conn:
            assert conn.execute("SELECT pod_id, key, version, value FROM records "
                                "ORDER BY pod_id, key").fetchall() == records

        # a copy goes only into an empty store: the target is left as it was
        again = cli("store", "copy", "--from", str(sqlite_db), "--to", url, check=False)
        assert again.returncode != 0 and "not empty" in again.stderr
        assert again.stderr.count("\n") == 1 and "pw-never-shown" not in again.stderr
        assert fetch(plain_url, "SELECT count(*) FROM records")[0][0] == len(records)

        # a server on the PostgreSQL copy (same data directory, same master key) reads it
        _serve(srv, url)
        try:
            assert httpx.get(first).content == b"written on SQLite"
            second = srv.base + "pub/second.txt"
            assert httpx.put(second, content=b"written on PostgreSQL",
                             headers=TEXT).status_code == 201
        finally:
            srv.stop()

        back = tmp_path / "back" / "commonpod.db"
        back.parent.mkdir()
        done = cli("store", "copy", "--from", url, "--to", str(back))
        summary = json.loads(done.stdout)
        assert summary["verified"] is True and summary["rows"]["pods"] == 1
        assert summary["rows"]["records"] == fetch(plain_url, "SELECT count(*) FROM records"
                                                   )[0][0]

    _serve(srv, str(back))
    try:
        assert httpx.get(first).content == b"written on SQLite"
        assert httpx.get(srv.base + "pub/second.txt").content == b"written on PostgreSQL"
    finally:
        srv.stop()


def test_copy_refuses_a_missing_source_or_an_empty_one(tmp_path: Path) -> None:
    missing = cli("store", "copy", "--from", str(tmp_path / "nothing.db"), "--to",
                  str(tmp_path / "target.db"), check=False)
    assert missing.returncode != 0 and "no SQLite database" in missing.stderr
    assert not (tmp_path / "target.db").exists()
    empty = tmp_path / "empty.db"
    import sqlite3
    sqlite3.connect(empty).close()
    refused = cli("store", "copy", "--from", str(empty), "--to", str(tmp_path / "target.db"),
                  check=False)
    assert refused.returncode != 0 and "empty" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert not (tmp_path / "target.db").exists()
