"""A data directory the server cannot use: one line ``commonpod: ...``, a non-zero exit, and
nothing changed — for a read-only, an unreadable and a not-a-directory data directory.

The tests run as root, whom permission bits do not stop, so "read-only" is a read-only bind
mount in a private mount namespace of the command alone (``unshare``; nothing is mounted for
anyone else, and it vanishes with the command), and "unreadable" is running the command as
``nobody`` (``setpriv``). Each test skips, saying why, where the machine does not allow that.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, cli

NOBODY = 65534
COMMANDS = [("serve", "--port", "9"), ("pod", "create", "bob"), ("pod", "delete", "alice"),
            ("keys", "rotate"), ("credentials", "list", "alice"),
            ("account", "create", "cleo", "--password-file", "-")]
READ_ONLY = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=60,
                          input="a long enough password\n", check=False)


def _one_line_failure(done: subprocess.CompletedProcess[str], what: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0, f"{what} succeeded"
    assert len(lines) == 1 and lines[0].startswith("commonpod: "), f"{what}:\n{done.stderr}"
    return lines[0]


def _snapshot(data: Path) -> dict[str, str]:
    """Digests of the data files. SQLite may leave an empty ``-wal`` (and its ``-shm`` index)
    beside a database it could open read-only only: that is no change of data."""
    assert all(p.stat().st_size == 0 for p in data.glob("*-wal"))
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()
            if not p.name.endswith(("-wal", "-shm"))}


def _initialised(d: Path) -> Path:
    """An initialised data directory at ``d`` with an account and pod ``alice``."""
    cli("init", "--base-url", "http://127.0.0.1:9/", data_dir=d)
    cli("account", "create", "alice", "--password-file", "-", data_dir=d,
        input="a long enough password\n")
    return d


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return _initialised(tmp_path / "data")


@pytest.fixture
def reachable() -> Iterator[Path]:
    """A directory every user may enter (pytest's own are root's, mode 0700)."""
    with tempfile.TemporaryDirectory(prefix="commonpod-test-") as d:
        Path(d).chmod(0o755)
        yield Path(d)


def test_a_read_only_data_directory_gives_one_line_and_changes_nothing(data: Path) -> None:
    probe = _run(["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY,
                  str(data), "true"])
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only bind mount here: {probe.stderr.strip()}")
    before = _snapshot(data)
    for args in COMMANDS:
        done = _run(["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY,
                     str(data), sys.executable, "-m", "pod", *args, "--data-dir", str(data)])
        line = _one_line_failure(done, " ".join(args))
        assert "Traceback" not in done.stderr
        assert str(data) in line, line  # says where the trouble is
    sub = data / "sub"
    done = _run(["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY,
                 str(data), sys.executable, "-m", "pod", "init", "--data-dir", str(sub)])
    _one_line_failure(done, "init inside a read-only directory")
    assert _snapshot(data) == before


def test_an_init_that_cannot_write_its_key_leaves_nothing_behind(tmp_path: Path) -> None:
    """The data directory is writable but the key's directory is not: init fails in one line
    and removes the settings it had written, so it can simply be run again."""
    keys, data = tmp_path / "keys", tmp_path / "data"
    keys.mkdir()
    done = _run(["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY,
                 str(keys), sys.executable, "-m", "pod", "init", "--data-dir", str(data),
                 "--master-key", str(keys / "pod.key")])
    if "mount" in done.stderr and "commonpod" not in done.stderr:
        pytest.skip(f"cannot make a read-only bind mount here: {done.stderr.strip()}")
    _one_line_failure(done, "init with a read-only key directory")
    assert list(data.iterdir()) == [] and list(keys.iterdir()) == []
    made = json.loads(cli("init", "--master-key", str(keys / "pod.key"), data_dir=data).stdout)
    assert made["data_dir"] == str(data) and (keys / "pod.key").exists()


def test_an_unreadable_data_directory_or_database_gives_one_line(reachable: Path) -> None:
    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run a command as another user")
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                 sys.executable, "-m", "pod"]
    probe = _run([*as_nobody[:-2], "-c", "import nacl, fastapi, pyoxigraph"])
    if probe.returncode != 0:
        pytest.skip("another user cannot import this venv's packages (installed with a "
                    f"private umask?): {probe.stderr.strip().splitlines()[-1]}")
    data = _initialised(reachable / "data")
    # the data directory belongs to root (mode 0700): nobody may not even look inside
    for args in COMMANDS:
        done = _run([*as_nobody, *args, "--data-dir", str(data)])
        assert "Traceback" not in done.stderr
        _one_line_failure(done, " ".join(args))
    # nobody owns the directory, settings and key, but the database is root's, read-only
    os.chown(data, NOBODY, NOBODY)
    for name in ("settings.toml", "master.key"):
        os.chown(data / name, NOBODY, NOBODY)
    (data / "commonpod.db").chmod(0o644)
    before = _snapshot(data)
    for args in COMMANDS:
        done = _run([*as_nobody, *args, "--data-dir", str(data)])
        line = _one_line_failure(done, " ".join(args))
        assert "Traceback" not in done.stderr and "commonpod.db" in line, line
    assert _snapshot(data) == before


def test_a_data_directory_that_is_a_file_gives_one_line(tmp_path: Path) -> None:
    afile = tmp_path / "not-a-dir"
    afile.write_text("x")
    for args in [("init",), *COMMANDS]:
        done = _run([sys.executable, "-m", "pod", *args, "--data-dir", str(afile)])
        line = _one_line_failure(done, " ".join(args))
        assert "is not a directory" in line, line
    assert afile.read_text() == "x"
