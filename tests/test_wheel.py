"""The package as a user installs it: the sdist and wheel built from this checkout, installed
into a fresh virtual environment outside it, ``commonpod serve`` started from there — and every
HTML page answers (issue #10 §1: an installed package once shipped no template).

Marked ``package`` (``python -m pytest -m package``). It needs PyPI, as ``pip install`` does:
the build backend and the server's dependencies are installed into the fresh environment.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import ROOT, free_port
from tests.forms import form_fields

pytestmark = pytest.mark.package

PACKAGES = ("pod", "auth", "apps", "vocab", "templates")
"""The top-level folders the wheel installs (pyproject.toml's ``packages.find``)."""
NOT_SHIPPED = re.compile(r"(__pycache__|\.pyc$|\.md$)")
"""Source files the server never reads: bytecode, and notes for people (``README.md``)."""
PASSWORD = "correct horse battery"
REDIRECT = "http://127.0.0.1:9/callback"


def _run(*argv: str | Path, cwd: Path, env: dict[str, str], timeout: float = 600,
         stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, input=stdin, text=True,
                          capture_output=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _outside_env(venv: Path) -> dict[str, str]:
    """The environment of a shell with only ``venv`` activated: nothing points at the checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    path = [p for p in env.get("PATH", "").split(os.pathsep)
            if p and not p.startswith(sys.prefix) and not p.startswith(str(ROOT))]
    return {**env, "PATH": os.pathsep.join([str(venv / "bin"), *path]),
            "VIRTUAL_ENV": str(venv), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def _data_files() -> set[str]:
    """Every file of the packages' source folders — code, templates, Turtle, JSON-LD, the icon —
    as its path in the wheel (and, below the top folder, in the sdist)."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            name = path.relative_to(ROOT).as_posix()
            if path.is_file() and not NOT_SHIPPED.search(name):
                found.add(name)
    return found


@dataclass
class Installed:
    """The built distributions and a running server installed from the wheel."""

    wheel: Path
    sdist: Path
    venv: Path
    base: str
    log: Path


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    tmp = tmp_path_factory.mktemp("wheel")
    src, dist, venv, home = tmp / "src", tmp / "dist", tmp / "venv", tmp / "home"
    home.mkdir()
    # build from a copy, so nothing (build/, *.egg-info) is left in the checkout or reused
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests"))
    _run(sys.executable, "-m", "venv", venv, cwd=home, env=os.environ.copy())
    env = _outside_env(venv)
    _run(venv / "bin/python", "-m", "pip", "install", "-q", "build", cwd=home, env=env)
    _run(venv / "bin/python", "-m", "build", "-q", "--outdir", dist, src, cwd=home, env=env)
    [wheel], [sdist] = dist.glob("*.whl"), dist.glob("*.tar.gz")
    _run(venv / "bin/python", "-m", "pip", "install", "-q", wheel, cwd=home, env=env)

    port = free_port()
    data, log = home / "data", tmp / "server.log"
    base = f"http://127.0.0.1:{port}/"
    _run("commonpod", "init", "--data-dir", data, "--base-url", base, cwd=home, env=env)
    with log.open("ab") as out:
        process = subprocess.Popen(["commonpod", "serve", "--data-dir", str(data), "--port",
                                    str(port)], cwd=home, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the server exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"the server did not start: {log.read_text()}"
            try:
                httpx.get(base + ".well-known/solid", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Installed(wheel, sdist, venv, base, log)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_wheel_and_sdist_ship_every_data_file(installed: Installed) -> None:
    wanted = _data_files()
    assert {"templates/base.html", "templates/static/commonpod.css", "vocab/commonpod.ttl"} \
        <= wanted
    in_wheel = set(zipfile.ZipFile(installed.wheel).namelist())
    assert not wanted - in_wheel, f"missing from the wheel: {sorted(wanted - in_wheel)}"
    with tarfile.open(installed.sdist) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert not wanted - in_sdist, f"missing from the sdist: {sorted(wanted - in_sdist)}"


def test_the_server_runs_from_the_installed_package(installed: Installed) -> None:
    done = _run(installed.venv / "bin/python", "-c",
                "import pod, templates; print(pod.__file__); print(templates.__file__)",
                cwd=installed.venv, env=_outside_env(installed.venv))
    for location in done.stdout.split():
        assert Path(location).is_relative_to(installed.venv), location


def _html(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, f"{r.request.url}: {r.status_code}\n{r.text[:2000]}"
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    assert "<!doctype html>" in r.text.lower()
    return r.text


def _signup(c: httpx.Client, name: str) -> None:
    page = _html(c.get("/.account/signup"), 200)
    form = {**form_fields(page, "/.account/signup"), "name": name, "password": PASSWORD,
            "confirm": PASSWORD}
    done = c.post("/.account/signup", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/.account/", done.text


def _authorize_query(base: str) -> str:
    """An authorization request (PKCE S256) from a newly registered app."""
    meta = {"redirect_uris": [REDIRECT], "client_name": "Wheel test app",
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none", "scope": "openid webid offline_access"}
    registered = httpx.post(base + ".oidc/reg", json=meta, timeout=20)
    assert registered.status_code == 201, registered.text
    digest = hashlib.sha256(secrets.token_urlsafe(48).encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return "/.oidc/auth?" + urlencode({
        "response_type": "code", "client_id": registered.json()["client_id"],
        "redirect_uri": REDIRECT, "scope": "openid webid offline_access", "state": "s",
        "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256"})


def test_every_html_page_of_the_installed_server_answers(installed: Installed) -> None:
    html = {"accept": "text/html"}
    with httpx.Client(base_url=installed.base, timeout=20, headers=html) as c:
        assert "/.account/signup" in _html(c.get("/"), 200)
        _html(c.get("/.account/login"), 200)
        _html(c.get("/.vocab/ns"), 200)
        _html(c.get("/.no-such-page"), 404)  # the HTML error page, from the FastAPI side
        _html(c.get("/.oidc/auth"), 400)  # … and from the authorization endpoint
        query = _authorize_query(installed.base)
        to_sign_in = c.get(query)  # the sign-in step of the authorization endpoint
        assert to_sign_in.status_code == 303, to_sign_in.text
        assert to_sign_in.headers["location"].startswith("/.account/login?return_to=")
        _html(c.get(to_sign_in.headers["location"]), 200)

        _signup(c, "newcomer")
        dashboard = _html(c.get("/.account/"), 200)
        assert "newcomer/profile/card#me" in dashboard
        style = re.search(r'href="(/\.static/commonpod\.css\?v=[0-9a-f]+)"', dashboard)
        assert style, "the pages link the stylesheet"
        css = c.get(style[1])  # package data: the stylesheet ships in the wheel
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert c.get("/.static/commonpod.js").status_code == 200
        pod = installed.base + "newcomer/"
        for page in ("/.account/grants", "/.account/log", "/.account/password",
                     "/.account/shared", "/.account/export", "/.account/import",
                     "/.account/delete", "/newcomer/", "/newcomer/profile/card",
                     "/.account/profile", "/.account/contributions",
                     "/.account/contributions/edit", "/.account/statements",
                     "/.account/pod/edit?" + urlencode({"container": pod}),
                     "/.account/pod/delete?" + urlencode({"resource": pod + "profile/"}),
                     "/.account/share?" + urlencode({"resource": pod})):
            _html(c.get(page), 200)
        assert "Allow" in _html(c.get(query), 200)  # the consent page
        _html(c.get("/.no-such-page"), 404)
        icon = c.get("/favicon.ico")
        assert icon.status_code == 200 and icon.content.startswith(b"\0\0\1\0")

    with httpx.Client(base_url=installed.base, timeout=20, headers=html) as stranger:
        to_login = stranger.get("/newcomer/")  # the pod browser sends strangers to sign in
        assert to_login.status_code == 303 and "/.account/login" in to_login.headers["location"]
        either = {"accept": "text/html, text/turtle"}  # no preference: the LDP side answers
        _html(stranger.get("/newcomer/", headers=either), 401)  # its HTML error page
    assert "Traceback" not in installed.log.read_text(errors="replace")
