"""Helpers for the shared-view tests: the app as a real process (``python -m
apps.shared_view``), members joining through the real consent flow driven with httpx as a
browser would, and the figures read back from the dashboard's HTML."""

from __future__ import annotations

import asyncio
import html
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import httpx

from apps.sdk import Contribution, NotFound, PodClient, client_credentials
from tests.conftest import ROOT, Server, free_port
from tests.forms import form_fields
from tests.test_accounts import csrf_of

PASSWORD = "a long enough password"  # what Server.create_account gives every account


@dataclass
class App:
    """A ``python -m apps.shared_view`` process for the community ``account``."""

    tmp: Path
    account: dict[str, str]
    args: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def log_file(self) -> Path:
        return self.tmp / f"app-{self.port}.log"

    module = "apps.shared_view"

    def options(self) -> list[str]:
        """The app's own options, before ``args``."""
        return ["--refresh-every", "3600", "--min-refresh-gap", "0"]

    def start(self, timeout: float = 40.0) -> Self:
        creds = self.tmp / "community-credentials.json"
        creds.write_text(json.dumps(self.account))
        creds.chmod(0o600)
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "--community", self.account["webid"],
             "--credentials", str(creds), "--public-url", self.base, "--port", str(self.port),
             "--allow-private-fetch", "--timeout", "8", *self.options(), *self.args],
            cwd=ROOT, stdout=log, stderr=log, env=dict(os.environ))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited: {self.log()}")
            try:
                if httpx.get(self.base, timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the app did not start: {self.log()}")

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def refresh(self, browser: httpx.Client | None = None) -> httpx.Response:
        """Press "Refresh now" on the dashboard; the dashboard after it."""
        own = browser or httpx.Client(timeout=60)
        try:
            token = csrf_of(own.get(self.base))
            done = own.post(self.base + "refresh", data={"csrf": token})
            assert done.status_code == 303, done.text
            return own.get(self.base)
        finally:
            if browser is None:
                own.close()


def join(app: App, srv: Server, name: str, who: str, *, untick: tuple[str, ...] = (),
         browser: httpx.Client | None = None) -> tuple[httpx.Client, httpx.Response]:
    """``name`` joins through the app's page as a browser would: names ``who`` (WebID or
    server), signs in on their own server (unless ``browser``, reused, already is),
    consents (unticking ``untick``), and comes back. The browser (keep it: it holds the
    app's member cookie) and the page it ends on."""
    b = browser or httpx.Client(timeout=60)
    page = b.get(app.base + "join")
    assert page.status_code == 200
    sent = b.post(app.base + "join", data={"csrf": csrf_of(page), "who": who})
    assert sent.status_code == 303, sent.text
    authorize = sent.headers["location"]
    assert authorize.startswith(srv.base), authorize
    path = "/" + authorize[len(srv.base):]
    consent = b.get(authorize)
    if consent.status_code == 303:  # not signed in on their server yet
        login = b.get(srv.base + ".account/login")
        done = b.post(srv.base + ".account/login",
                      data={"csrf": csrf_of(login), "name": name, "password": PASSWORD,
                            "return_to": path})
        assert done.status_code == 303, done.text
        consent = b.get(authorize)
    assert consent.status_code == 200, consent.text
    fields = form_fields(consent.text, "/.oidc/auth")
    for need in untick:
        fields.pop(f"need-{need}")
    decided = b.post(srv.base + ".oidc/auth", data={**fields, "decision": "allow"})
    assert decided.status_code == 303, decided.text
    back = decided.headers["location"]
    assert back.startswith(app.base + "join/callback?"), back
    return b, b.get(back)


def figures(page: httpx.Response | str) -> dict[str, str]:
    """The dashboard's figures by key (project IRI, kind IRI, month, ``total``)."""
    text = page if isinstance(page, str) else page.text
    found = {html.unescape(k): html.unescape(v).strip() for k, v in re.findall(
        r'<td class="n" data-key="([^"]+)">([^<]*)</td>', text)}
    total = re.search(r'<dd id="total">([^<]*)</dd>', text)
    if total:
        found["total"] = total.group(1).strip()
    return found


def servers(page: httpx.Response) -> dict[str, tuple[int, int, int]]:
    """The last refresh by server: (read, unreachable, withdrawn)."""
    rows = re.findall(r'<tr data-server="([^"]+)"><td>[^<]*</td><td class="n">(\d+)</td>'
                      r'<td class="n">(\d+)</td><td class="n">(\d+)</td></tr>', page.text)
    return {origin: (int(a), int(b), int(c)) for origin, a, b, c in rows}


def contribute(who: dict[str, str], items: list[tuple[str, str, str, str]]) -> None:
    """``who`` records contributions in their own pod with their own credential: (slug,
    project IRI, kind, ISO date) each."""
    async def work() -> None:
        session = await client_credentials(who["issuer"], who["client_id"],
                                           who["client_secret"])
        async with PodClient(session) as pod:
            for slug, project, kind, day in items:
                await pod.put(who["pod"] + f"contributions/{slug}", Contribution(
                    provider=who["webid"], name=f"{slug} for {project}",
                    in_scope_of=(project,), kinds=(kind,),
                    when=datetime.fromisoformat(day).replace(tzinfo=UTC)))

    asyncio.run(work())


def community_document(account: dict[str, str], name: str) -> str:
    """A document of the app's in the community's pod, read as the community ("" if none)."""
    async def work() -> str:
        session = await client_credentials(account["issuer"], account["client_id"],
                                           account["client_secret"])
        async with PodClient(session) as pod:
            try:
                return (await pod.get(account["pod"] + "shared-view/" + name,
                                      accept="text/turtle")).text
            except NotFound:
                return ""

    return asyncio.run(work())


def revoke(who: dict[str, str], srv: Server) -> Any:
    """``who`` withdraws every grant they gave, with their own credential (docs/api.md §5)."""
    async def work() -> list[str]:
        session = await client_credentials(who["issuer"], who["client_id"],
                                           who["client_secret"])
        name = who["pod"].rstrip("/").rsplit("/", 1)[-1]
        async with PodClient(session) as owner:
            listed = await owner.request("GET", srv.base + ".api/grants",
                                         params={"pod": name},
                                         headers={"Accept": "application/json"})
            grants = [g["grant"] for g in listed.json()["grants"]]
            for grant in grants:
                await owner.request("POST", srv.base + ".api/grants/revoke",
                                    params={"pod": name},
                                    headers={"Content-Type": "application/json"},
                                    content=json.dumps({"grant": grant}).encode(),
                                    ok=(400, 409))  # one withdrawn before stays so
            return grants

    return asyncio.run(work())
