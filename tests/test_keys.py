"""Master key handling: init, refusal to start on a bad key, and rotation."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest

from tests.conftest import Server, cli, free_port

DOC = b'<#a> <http://ex.org/p> "kept across rotation" .'


def _serve_refuses(data_dir: Path, message: str) -> None:
    done = cli("serve", "--port", str(free_port()), data_dir=data_dir, check=False)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_init_creates_private_key_and_refuses_to_overwrite(tmp_path: Path) -> None:
    data = tmp_path / "d"
    cli("init", "--base-url", "http://127.0.0.1:9/", data_dir=data)
    key = data / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    before = key.read_bytes()
    again = cli("init", "--base-url", "http://127.0.0.1:9/", data_dir=data, check=False)
    assert again.returncode != 0 and "not overwriting" in again.stderr
    assert key.read_bytes() == before


def test_serve_initialises_a_new_data_directory(tmp_path: Path) -> None:
    srv = Server(tmp_path / "new", free_port())
    try:
        srv.start()
        assert (srv.data_dir / "master.key").exists()
        assert httpx.get(srv.base + ".well-known/solid").status_code == 200
    finally:
        srv.stop()


@pytest.mark.parametrize("damage, message", [
    ("missing", "is missing"),
    ("world-readable", "must be readable by its owner only"),
    ("wrong", "wrong master key"),
    ("truncated", "is damaged"),
])
def test_server_refuses_to_start_on_a_bad_master_key(
        fresh_server: Server, damage: str, message: str) -> None:
    srv = fresh_server
    srv.create_pod("alice")
    key = srv.data_dir / "master.key"
    if damage == "missing":
        key.unlink()
    elif damage == "world-readable":
        key.chmod(0o644)
    elif damage == "wrong":
        key.unlink()
        key.write_bytes(os.urandom(32))
        key.chmod(0o600)
    else:
        key.write_bytes(key.read_bytes()[:20])
    _serve_refuses(srv.data_dir, message)
    if damage == "missing":
        assert not key.exists(), "a fresh key must never be created over existing data"


def test_rotation_rewraps_keys_and_retires_the_old_key(fresh_server: Server) -> None:
    srv = fresh_server
    srv.create_pod("alice", "--public-write")
    srv.start()
    url = srv.base + "alice/notes/doc.ttl"
    assert httpx.put(url, content=DOC, headers={"Content-Type": "text/turtle"}).status_code == 201
    srv.stop()
    key = srv.data_dir / "master.key"
    old = key.read_bytes()
    done = cli("keys", "rotate", data_dir=srv.data_dir)
    assert '"pods": 1' in done.stdout
    assert key.read_bytes() != old
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not list(srv.data_dir.glob("master.key.*"))
    srv.start()
    got = httpx.get(url)
    assert got.status_code == 200 and b"kept across rotation" in got.content
    srv.stop()
    key.unlink()
    key.write_bytes(old)
    key.chmod(0o600)
    _serve_refuses(srv.data_dir, "wrong master key")


def test_first_start_on_another_port_names_that_port_and_keeps_files_private(
        tmp_path: Path) -> None:
    srv = Server(tmp_path / "fresh", free_port())
    try:
        srv.start()
        made = srv.create_pod("pia")
        assert made["pod"] == srv.base + "pia/"
        for f in srv.data_dir.iterdir():
            assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f"{f.name} is readable by others"
    finally:
        srv.stop()


def test_the_master_key_can_live_apart_from_the_database(tmp_path: Path) -> None:
    """``init --master-key PATH`` puts the key elsewhere and records where in settings.toml, so
    serve, pod create and keys rotate find it; the refusals still hold there."""
    data, key = tmp_path / "data", tmp_path / "secrets" / "pod.key"
    port = free_port()
    cli("init", "--base-url", f"http://127.0.0.1:{port}/", "--master-key", str(key),
        data_dir=data)
    assert len(key.read_bytes()) == 32 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert not (data / "master.key").exists()
    srv = Server(data, port)
    srv.create_pod("alice", "--public-write")
    url = srv.base + "alice/notes/doc.ttl"
    try:
        srv.start()
        put = httpx.put(url, content=DOC, headers={"Content-Type": "text/turtle"})
        assert put.status_code == 201
        srv.stop()
        old = key.read_bytes()
        assert '"pods": 1' in cli("keys", "rotate", data_dir=data).stdout
        assert key.read_bytes() != old and stat.S_IMODE(key.stat().st_mode) == 0o600
        assert sorted(p.name for p in key.parent.iterdir()) == ["pod.key"]
        assert not list(data.glob("master.key*"))
        srv.start()
        got = httpx.get(url)
        assert got.status_code == 200 and b"kept across rotation" in got.content
    finally:
        srv.stop()
    moved = tmp_path / "moved.key"
    key.rename(moved)
    _serve_refuses(data, "is missing")  # never a fresh key over existing data
    assert not key.exists() and not (data / "master.key").exists()
    made = cli("pod", "create", "bob", "--master-key", str(moved), data_dir=data)
    assert '"pod"' in made.stdout  # the flag overrides settings.toml
    moved.chmod(0o644)
    done = cli("pod", "create", "carl", "--master-key", str(moved), data_dir=data, check=False)
    assert done.returncode != 0 and "must be readable by its owner only" in done.stderr
    done = cli("pod", "create", "carl", data_dir=data, check=False,
               env={"COMMONPOD_MASTER_KEY_FILE": "relative.key"})
    assert done.returncode != 0 and "must be an absolute path" in done.stderr
    again = cli("init", "--master-key", str(moved), data_dir=tmp_path / "other", check=False)
    assert again.returncode != 0 and "not overwriting" in again.stderr
    assert not (tmp_path / "other" / "settings.toml").exists()
