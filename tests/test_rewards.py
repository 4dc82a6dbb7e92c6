"""The rewards app's hard cases (issue #13 §3): two Commonpod servers, the community on A with
its shared view, members on A and B who join through the real consent flow. The app's commands
run as processes: a run with server B down is completed by the next, as is one whose delivery
failed (a member's pod full) after the badge was entered in the ledger; running again issues
nothing twice; a revoked badge is seen revoked by `apps.sdk.statements.verify` and on its
owner's statements page (while the owner may still store it); a member who refused badges
receives nothing; the page lists what was issued and revoked. The ordinary flow — badges under
a governed rules change, issued again, revoked and checked with `commonpod vc verify`, nothing
for a member who withdrew — is part of the end-to-end test in tests/test_reputation.py."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest

from apps.sdk import HttpResolver, PodClient, client_credentials
from apps.sdk.statements import verify
from tests.conftest import ROOT, Server, cli, free_port
from tests.forms import form_fields
from tests.rewards_world import (
    ORGANISING,
    badges_of,
    join_all,
    record,
    rewards,
    start_world,
    stop_world,
)
from tests.shared_view import PASSWORD


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    found = start_world(tmp_path_factory.mktemp("rewards"), {"a": ("ann",), "b": ("bea", "bo")})
    try:
        yield found
    finally:
        stop_world(found)


def _verify(credential: dict[str, Any]) -> Any:
    async def work() -> Any:
        async with PodClient() as anonymous:  # a fresh resolver: no cached status list
            return await verify(credential, resolve=HttpResolver(anonymous))

    return asyncio.run(work())


def _owner_statements(srv: Server, name: str) -> str:
    """The one statement on ``name``'s own statements page (signed in with a password)."""
    with httpx.Client(base_url=srv.base, timeout=30) as browser:
        login = browser.get("/.account/login")
        signed = browser.post("/.account/login", data={
            **form_fields(login.text, "/.account/login"), "name": name, "password": PASSWORD})
        assert signed.status_code == 303, signed.text
        page = browser.get("/.account/statements")
    assert page.status_code == 200, page.text
    items = page.text.split('<li class="item statement">')[1:]
    assert len(items) == 1, page.text
    return items[0]


def _put_json(who: dict[str, str], url: str, credential: dict[str, Any]) -> int:
    async def work() -> int:
        session = await client_credentials(who["issuer"], who["client_id"],
                                           who["client_secret"])
        async with PodClient(session) as pod:
            return (await pod.put(url, credential, content_type="application/ld+json")).status

    return asyncio.run(work())


def test_issue_complete_rerun_and_revoke(world: dict[str, Any], tmp_path: Path) -> None:
    people = world["people"]
    made = {name: record(who, ORGANISING, 3) for name, who in people.items()}
    join_all(world, {"bo": ("named", "rewards"), "bea": ("named",)})

    # server B is down: ann (on A) gets her badge; bea's and bo's pods are unreachable
    world["b"].stop()
    first = json.loads(rewards(world, "issue").stdout)
    assert first["rules_version"] == 1 and len(first["delivered"]) == 1
    assert "unreachable" in first["skipped"][people["bea"]["webid"]]
    world["b"].start()
    assert len(badges_of(people["ann"])) == 1

    # B is back but bea's pod is full: her badge is entered in the ledger, its delivery fails
    b_data = world["b"].data_dir
    used = json.loads(cli("pod", "usage", "bea", data_dir=b_data).stdout)["used"]["resources"]
    cli("pod", "quota", "bea", "--resources", str(used), data_dir=b_data)
    second = json.loads(rewards(world, "issue").stdout)
    assert second["delivered"] == [] and len(second["pending"]) == 1
    assert "does not consent" in second["skipped"][people["bo"]["webid"]]
    assert badges_of(people["bea"]) == []

    # the next run completes it, with the entry's id, bit and time; ann's is not issued again
    cli("pod", "quota", "bea", "--resources", "default", data_dir=b_data)
    third = json.loads(rewards(world, "issue").stdout)
    assert third["delivered"] == second["pending"] and third["pending"] == []
    again = json.loads(rewards(world, "issue").stdout)
    assert again["delivered"] == [] and again["pending"] == []
    ann, bea = badges_of(people["ann"]), badges_of(people["bea"])
    assert len(ann) == 1 and len(bea) == 1
    assert badges_of(people["bo"]) == []
    assert first["delivered"] == [ann[0]["id"]] and third["delivered"] == [bea[0]["id"]]

    badge = ann[0]
    assert "OpenBadgeCredential" in badge["type"]
    assert badge["issuer"]["id"] == world["community"]["webid"]
    assert badge["credentialSubject"]["id"] == people["ann"]["webid"]
    # the evidence: the contributions that met the criteria, as links into ann's pod
    assert sorted(e["id"].split("#")[0] for e in badge["evidence"]) == sorted(made["ann"])
    assert badge["credentialSubject"]["achievement"]["criteria"]["id"].endswith("rules/v1.ttl")
    assert badge["credentialStatus"]["type"] == "BitstringStatusListEntry"
    ok = _verify(badge)
    assert ok.verified and ok.status == {"revocation": False}, ok.reasons

    # bea's badge is revoked: verifiers see it (`commonpod vc verify` too: tests/test_reputation.py)
    done = json.loads(rewards(world, "revoke", bea[0]["id"]).stdout)
    assert done["member"] == people["bea"]["webid"]
    no = _verify(bea[0])
    assert not no.verified and no.revoked, no.reasons
    assert _verify(ann[0]).verified
    assert rewards(world, "revoke", "urn:uuid:0", check=False).returncode == 1

    # revoked, a badge stays in the ledger: a further run does not issue it again
    assert json.loads(rewards(world, "issue").stdout)["delivered"] == []
    assert len(badges_of(people["bea"])) == 1

    # the owners' statements pages check the status too: bea's (on B, the list fetched from
    # A through B's guarded fetcher) says revoked; ann's (on A, the list read locally) verified
    revoked_item = _owner_statements(world["b"], "bea")
    assert "<strong>Revoked</strong> — revoked by its issuer" in revoked_item, revoked_item
    assert "<strong>Verified</strong>" not in revoked_item
    verified_item = _owner_statements(world["a"], "ann")
    assert "<strong>Verified</strong>" in verified_item, verified_item
    assert "Revoked" not in verified_item
    # a write is checked without the status: bea may still keep a copy of her revoked badge
    stored = re.search(r'<a href="([^"]+)"[^>]*>the signed document</a>', revoked_item)
    assert stored is not None, revoked_item
    copy = unescape(stored.group(1)).rsplit("/", 1)[0] + "/kept-copy"
    assert _put_json(people["bea"], copy, bea[0]) == 201

    # the page lists both badges, the revoked one as revoked, and names nobody unnamed
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    creds = world["tmp"] / "community-credentials.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "apps.rewards", "serve", "--community",
         world["community"]["webid"], "--credentials", str(creds), "--key-file",
         str(world["tmp"] / "community.key"), "--port", str(port), "--issue-every", "3600"],
        cwd=ROOT, stdout=log, stderr=log)
    try:
        page = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and page is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
            except httpx.TransportError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert page is not None and page.status_code == 200
        assert ann[0]["id"] in page.text and bea[0]["id"] in page.text
        assert f'data-credential="{bea[0]["id"]}"' in page.text
        assert 'class="state-revoked">revoked' in page.text
        assert "ann" in page.text  # ann agreed to be named
        assert people["bea"]["webid"] not in page.text  # bea did not
    finally:
        proc.terminate()
        proc.wait(10)
