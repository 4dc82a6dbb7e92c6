"""Every third-party package the server imports is declared in pyproject.toml's dependencies
(test-only packages are not enough: `pip install .` must give a server that starts), or in an
optional extra of the server's own (`postgresql`) — whose packages are then imported only
when that feature is used, so the base install starts without them. What the community apps
import beyond that is in the `apps` extra (`pip install '.[apps]'`)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.conftest import ROOT

OURS = {"pod", "auth", "vocab", "apps"}
#: the community apps, which may use the `apps` extra too (the SDK may not)
APPS = [ROOT / "apps" / "shared_view", ROOT / "apps" / "rules", ROOT / "apps" / "reputation",
        ROOT / "apps" / "rewards", ROOT / "apps" / "community_kit", ROOT / "apps" / "cli.py"]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
#: the server's own optional extras (not the apps' nor the tests')
SERVER_EXTRAS = {"postgresql"}


def _names(deps: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~ ;]", d, maxsplit=1)[0].lower().replace("_", "-") for d in deps}


EXTRAS = _names([d for group, deps in PROJECT["optional-dependencies"].items()
                 if group in SERVER_EXTRAS for d in deps])


def _app_module(path: Path) -> bool:
    return any(path == a or a in path.parents for a in APPS)


def _imported_top_levels(paths: Iterable[Path]) -> set[str]:
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return names - OURS - set(sys.stdlib_module_names) - {"__future__"}


def _missing(paths: Iterable[Path], declared: set[str]) -> dict[str, list[str]]:
    dists = packages_distributions()
    missing = {}
    for module in _imported_top_levels(paths):
        owners = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        if not owners & declared:
            missing[module] = sorted(owners)
    return missing


def _modules() -> list[Path]:
    return [p for package in OURS for p in (ROOT / package).rglob("*.py")]


def test_every_runtime_import_is_a_declared_dependency() -> None:
    server = [p for p in _modules() if not _app_module(p)]
    missing = _missing(server, _names(PROJECT["dependencies"]) | EXTRAS)
    assert not missing, f"imported but not declared in [project.dependencies]: {missing}"


def test_the_apps_need_only_the_dependencies_and_the_apps_extra() -> None:
    apps = [p for p in _modules() if _app_module(p)]
    assert apps
    declared = _names(PROJECT["dependencies"]) | _names(PROJECT["optional-dependencies"]["apps"])
    missing = _missing(apps, declared)
    assert not missing, f"imported by apps but in neither dependencies nor the apps extra: " \
                        f"{missing}"


def test_the_base_install_starts_without_the_optional_extras() -> None:
    """With every package of the server's optional extras unimportable, the server and the
    command line still load (the PostgreSQL driver is imported only for a postgresql:// store)."""
    dists = packages_distributions()
    blocked = sorted(m for m, owners in dists.items()
                     if {d.lower().replace("_", "-") for d in owners} & EXTRAS)
    assert blocked, "expected the extras' packages to be installed (the test extra has them)"
    code = (f"import sys; sys.modules.update(dict.fromkeys({blocked!r}));"
            "import pod.app, pod.runtime, pod.cli.main;"
            "from pod.cli.main import main; main(['--help'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "store" in done.stdout
