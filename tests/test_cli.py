"""The command line: spellings other tools script, clear errors, non-zero exits."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import fields
from pathlib import Path

import httpx
import pytest

from pod.settings import Settings
from tests.conftest import ROOT, Server, cli, free_port


@pytest.mark.parametrize("name", ["Alice", "-x", "a_b", ".well-known", "static", "x" * 64, ""])
def test_pod_create_rejects_invalid_names(server: Server, name: str) -> None:
    done = cli("pod", "create", name, data_dir=server.data_dir, check=False)
    assert done.returncode != 0
    assert "error:" in done.stderr and "Traceback" not in done.stderr


def test_pod_create_refuses_a_duplicate(server: Server) -> None:
    done = cli("pod", "create", "alice", data_dir=server.data_dir, check=False)
    assert done.returncode != 0 and "already exists" in done.stderr


def test_pod_create_works_while_the_server_runs(server: Server) -> None:
    made = json.loads(cli("pod", "create", "carol", data_dir=server.data_dir).stdout)
    assert made == {"pod": server.base + "carol/",
                    "webid": server.base + "carol/profile/card#me"}
    card = httpx.get(made["webid"].split("#")[0])
    assert card.status_code == 200
    assert httpx.get(made["pod"]).status_code == 401  # private by default


def test_commands_on_a_missing_data_directory_fail_clearly(tmp_path: Path) -> None:
    for args in (("pod", "create", "bob"), ("keys", "rotate"), ("pod", "delete", "bob")):
        done = cli(*args, data_dir=tmp_path / "none", check=False)
        assert done.returncode != 0 and "commonpod init" in done.stderr


def test_environment_variables_configure_serve(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "env-data"
    srv = Server(data, port)
    env = {"COMMONPOD_BASE_URL": "https://pods.example/", "COMMONPOD_DATA_DIR": str(data)}
    cli("init", env=env)
    assert (data / "settings.toml").exists()
    done = cli("pod", "create", "dora", env=env)
    assert json.loads(done.stdout)["pod"] == "https://pods.example/dora/"
    bad = cli("serve", "--port", str(port), data_dir=data, check=False,
              env={"COMMONPOD_DURABILITY": "sometimes"})
    assert bad.returncode != 0 and "durability" in bad.stderr
    bad = cli("serve", "--port", str(port), data_dir=data, check=False,
              env={"COMMONPOD_ACCESS_LOG_DAYS": "0"})
    assert bad.returncode != 0 and "access_log_days" in bad.stderr
    del srv


def test_a_number_setting_of_another_toml_kind_is_refused_clearly(tmp_path: Path) -> None:
    """A TOML list or date where settings.toml needs a number stops the command with the
    setting's name, as a bad number does, not with a traceback."""
    data = tmp_path / "data"
    cli("init", "--base-url", "http://127.0.0.1:8000/", data_dir=data)
    written = (data / "settings.toml").read_text()
    for value in ("[30]", "2024-01-01", "{ days = 30 }", "'thirty'"):
        (data / "settings.toml").write_text(written + f"access_log_days = {value}\n")
        bad = cli("pod", "create", "bob", data_dir=data, check=False)
        assert bad.returncode != 0 and "access_log_days" in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr


def test_ci_type_checks_every_package_strictly() -> None:
    """.ci/run runs mypy (issue #11 §5), strict, on every package the wheel ships."""
    steps = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "mypy" in steps
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    mypy = config["tool"]["mypy"]
    assert mypy["strict"] is True and mypy["warn_unreachable"] is True
    assert set(mypy["files"]) == {"pod", "auth", "apps", "vocab"}
    test_extra = config["project"]["optional-dependencies"]["test"]
    assert {"mypy", "types-Authlib"} <= {re.split(r"[<>=~! ]", req)[0] for req in test_extra}


def test_help_lists_every_command() -> None:
    out = cli("--help").stdout
    for command in ("init", "serve", "pod", "keys"):
        assert command in out


def test_readme_documents_every_setting_and_ci_runs_its_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    for f in fields(Settings):
        assert f"`{f.name}`" in readme, f"setting {f.name} is not in the README"
        assert f"COMMONPOD_{f.name.upper()}" in readme
    test_command = "pip install -q -e '.[test]' && python -m pytest -q"
    assert test_command in readme
    assert test_command in (ROOT / ".ci" / "run").read_text()
