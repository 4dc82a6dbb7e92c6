"""What the README tells a newcomer and an operator holds: the quick start's two commands and its
next step, the command table, the check script's pointers, the backup recipe and the reverse
proxy advice (issue #10 §4)."""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import httpx

from pod.cli.main import parser
from tests.conftest import ROOT, Server, cli, free_port, new_server
from tests.test_accounts import PASSWORD, login

README = (ROOT / "README.md").read_text()
TEST_COMMAND = "pip install -q -e '.[test]' && python -m pytest -q"


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:] if end == -1 else README[start:end]


def words(text: str) -> str:
    """``text`` with its line breaks and runs of spaces as single spaces."""
    return " ".join(text.split())


def shell_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.S)]


def test_the_quick_start_has_two_commands_and_an_account_as_the_next_step() -> None:
    quick = section("Quick start")
    serve, tests = shell_blocks(quick)  # exactly two: start the server, run the tests
    assert serve.startswith("python3 -m venv .venv && . .venv/bin/activate")
    assert serve.endswith("&& commonpod serve")
    assert tests == TEST_COMMAND
    assert "in the same venv" in words(quick[quick.index("Install and run the tests"):])
    after_serve = words(quick[quick.index(serve):quick.index(tests)])
    assert "http://127.0.0.1:8000/.account/signup" in after_serve
    assert "`commonpod account create alice`" in after_serve
    assert "`commonpod pod create` makes a pod without an account" in after_serve


def _leaf_commands(p: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    found = []
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _leaf_commands(sub, f"{prefix}{name} ") or [prefix + name]
    return found


def test_the_command_table_lists_every_command() -> None:
    table = section("Command line")
    commands = _leaf_commands(parser())
    assert "vc sign" in commands and "pod create" in commands
    missing = [c for c in commands if not re.search(rf"`(commonpod )?{re.escape(c)}\b", table)]
    assert not missing, f"commands missing from the README's command table: {missing}"


def test_ci_run_names_tests_that_exist() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in script
    named = re.findall(r"(tests/[\w/]+\.py)(?:::(\w+))?", script)
    assert named, ".ci/run names no test that checks the README command"
    for path, function in named:
        assert (ROOT / path).is_file(), f".ci/run names {path}, which does not exist"
        if function:
            tree = ast.parse((ROOT / path).read_text())
            defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
            assert function in defined, f".ci/run names {path}::{function}, which is not there"


def _backup(database: Path, into: Path) -> None:
    """The README's backup command, with this test's paths."""
    [command] = shell_blocks(section("Backing up"))
    command = command.replace("~/.local/share/commonpod/", f"{database.parent}/")
    command = command.replace("/backups/commonpod-$(date +%F).db", str(into))
    assert str(database) in command and str(into) in command, command
    if shutil.which("sqlite3"):
        subprocess.run(["bash", "-c", command], check=True, timeout=60)
    else:  # the same statement through Python's sqlite3
        [statement] = re.findall(r'"(VACUUM INTO .*)"', command)
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            conn.execute(statement)


def _restored(tmp: Path, name: str, settings: Path, database: Path, key: Path | None) -> Path:
    data = tmp / name
    data.mkdir(mode=0o700)
    shutil.copy(settings, data / "settings.toml")
    shutil.copy(database, data / "commonpod.db")
    if key is not None:
        shutil.copy(key, data / "master.key")
    return data


def test_a_backup_made_while_the_server_runs_restores_with_its_key_only(tmp_path: Path) -> None:
    srv = new_server(tmp_path / "live")
    srv.create_pod("pub", "--public-write")
    cli("account", "create", "alice", "--password-file", "-", data_dir=srv.data_dir,
        input=PASSWORD + "\n")
    turtle = {"content-type": "text/turtle"}
    srv.start()
    try:
        put = httpx.put(srv.base + "pub/before.ttl", content=b"<#a> <#b> <#c>.", headers=turtle)
        assert put.status_code == 201
        copy = tmp_path / "backups" / "commonpod.db"
        copy.parent.mkdir()
        _backup(srv.data_dir / "commonpod.db", copy)
        put = httpx.put(srv.base + "pub/after.ttl", content=b"<#d> <#e> <#f>.", headers=turtle)
        assert put.status_code == 201
    finally:
        srv.stop()

    settings, key = srv.data_dir / "settings.toml", srv.data_dir / "master.key"
    # the same base_url (and so port): the pods' ACLs and WebIDs name it
    back = Server(_restored(tmp_path, "restored", settings, copy, key), srv.port).start()
    try:
        assert "<#c>" in httpx.get(back.base + "pub/before.ttl").text
        assert httpx.get(back.base + "pub/after.ttl").status_code == 404  # after the snapshot
        with httpx.Client(base_url=back.base, timeout=20) as browser:
            assert login(browser, "alice").status_code == 303
    finally:
        back.stop(signal.SIGKILL)

    other_key = tmp_path / "other" / "master.key"
    cli("init", data_dir=other_key.parent)
    for name, wrong in (("wrong-key", other_key), ("no-key", None)):
        data = _restored(tmp_path, name, settings, copy, wrong)
        refused = cli("serve", "--port", str(free_port()), data_dir=data, check=False)
        assert refused.returncode != 0 and "error:" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr


def test_behind_a_proxy_urls_come_from_base_url_and_cookies_are_secure(tmp_path: Path) -> None:
    advice = words(section("Running behind a TLS reverse proxy"))
    for needed in ('base_url = "https://pods.example/"', "trusted_proxies", "X-Forwarded-For",
                   "never from the `Host` or `X-Forwarded-Proto` headers", "`Secure`"):
        assert needed in advice, needed
    port = free_port()
    data = tmp_path / "data"
    cli("init", "--base-url", "https://pods.example/", data_dir=data)
    srv = Server(data, port).start()
    try:
        forged = {"host": "evil.example", "x-forwarded-proto": "http",
                  "x-forwarded-host": "evil.example", "forwarded": "host=evil.example"}
        described = httpx.get(srv.base + ".well-known/solid", headers=forged)
        assert "<https://pods.example/.well-known/solid>" in described.text
        assert "evil" not in described.text
        issuer = httpx.get(srv.base + ".well-known/openid-configuration", headers=forged).json()
        assert issuer["issuer"].rstrip("/") == "https://pods.example"
        form = httpx.get(srv.base + ".account/signup")  # its CSRF cookie
        cookies = form.headers.get_list("set-cookie")
        assert cookies and all("; secure" in c.lower() for c in cookies), cookies
    finally:
        srv.stop(signal.SIGKILL)
