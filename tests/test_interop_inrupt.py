"""Interoperability with the unmodified Inrupt client libraries (Node.js), against a live server.

`@inrupt/solid-client` 3 and `@inrupt/solid-client-authn-node` 5 are pinned in
tests/interop/package.json and installed on first use (npm ci).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Server, cli

INTEROP = Path(__file__).resolve().parent / "interop"


@pytest.fixture(scope="session")
def node_clients() -> Path:
    """The interop folder with its npm packages installed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed for the interoperability tests")
    if not (INTEROP / "node_modules" / "@inrupt" / "solid-client").exists():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=INTEROP,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    return INTEROP


def test_inrupt_client_libraries_work_against_commonpod(server: Server, node_clients: Path
                                                        ) -> None:
    made = json.loads(cli("account", "create", "inrupt", "--password-file", "-",
                          data_dir=server.data_dir, input="interop password\n").stdout)
    cred = json.loads(cli("credentials", "create", "inrupt", data_dir=server.data_dir).stdout)
    done = subprocess.run(
        ["node", "inrupt.mjs", server.base, made["pod"], cred["client_id"],
         cred["client_secret"]],
        cwd=node_clients, capture_output=True, text=True, timeout=120, check=False)
    steps = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert [s["step"] for s in steps] == [
        "login", "container", "saved", "read", "updated", "anonymous-refused", "deleted"]
    assert steps[0]["webId"] == made["webid"]
