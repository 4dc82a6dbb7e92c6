"""docs/sdk.md runs: every Python example, in order, against a live server — with the cast's
values filled in, a member consenting in a browser where the page says so, and a real
revocation event given to the page's webhook handler."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT, Server, new_server
from tests.test_sdk_consent import Hooks, consent

DOC = (ROOT / "docs" / "sdk.md").read_text(encoding="utf-8")
SETUP_MARK = "# the values your accounts and credentials gave you"


def blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", DOC, re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = new_server(tmp_path_factory.mktemp("sdk-docs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hooks() -> Iterator[Hooks]:
    found = Hooks()
    yield found
    found.httpd.shutdown()


def setup(srv: Server, hooks: Hooks) -> str:
    """The page's first block, with this server's accounts and a webhook that listens."""
    amara, riverside = srv.create_account("amara"), srv.create_account("riverside")

    def who(made: dict[str, str]) -> dict[str, str]:
        return {k: made[k] for k in ("webid", "pod", "client_id", "client_secret")}

    return (f"ISSUER = {srv.base!r}\nAMARA = {who(amara)!r}\nRIVERSIDE = {who(riverside)!r}\n"
            f"BOARD = {riverside['pod'] + 'board.json'!r}\n"
            f"REDIRECT_URI = 'http://127.0.0.1:5173/callback'\nWEBHOOK = {hooks.url!r}\n")


def test_the_page_shows_the_cast_first() -> None:
    first = blocks()[0]
    assert SETUP_MARK in first and 'ISSUER = "http://127.0.0.1:8000/"' in first


def test_every_example_runs_against_a_live_server(srv: Server, hooks: Hooks) -> None:
    namespace: dict[str, Any] = {"__name__": "sdk_docs"}
    out = io.StringIO()
    examples = blocks()
    assert len(examples) >= 10
    for n, code in enumerate(examples):
        if SETUP_MARK in code:
            code = setup(srv, hooks)
        if "flow.finish(" in code:  # the member, in their browser, between the two blocks
            namespace["callback_url"] = consent(srv, "amara", namespace["flow"].url)
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"docs/sdk.md python block {n + 1}", "exec"), namespace)  # noqa: S102 (our own documentation)
    printed = out.getvalue()
    amara = namespace["AMARA"]

    # what the examples say they do, they did
    assert f"{amara['webid']} token for" in printed
    assert f"created {amara['pod']}contributions/2025-05-mentoring" in printed
    assert "not overwritten:" in printed
    assert "vf:resourceClassifiedAs —" in printed or "vf:action —" in printed
    assert f"signed in: {amara['webid']}" in printed
    assert "('read',) https://commonpod.org/ns#Contribution until" in printed
    assert "awarded: " + amara["pod"] + "rewards/" in printed and "\nverified\n" in printed
    assert "Paired with two newcomers on their first repairs" in printed
    assert re.search(r"1 contributions to show", printed), printed
    assert f"Add {amara['pod']}notes/repair-list" in printed
    assert [n.type for n in namespace["NOTIFIED"]] == ["Create", "Add"]  # notes/ made, filled

    # the webhook handler of the page, given the event the server sends on revocation
    async def grants() -> Any:
        from apps.sdk import PodClient, client_credentials

        session = await client_credentials(srv.base, amara["client_id"],
                                           amara["client_secret"])
        async with PodClient(session) as own:
            listed = (await own.request("GET", srv.base + ".api/grants",
                                        params={"pod": "amara"})).json()["grants"]
            [active] = [g for g in listed if g["status"] == "active"]
            await own.request("POST", srv.base + ".api/grants/revoke",
                              params={"pod": "amara"},
                              headers={"Content-Type": "application/json"},
                              content=f'{{"grant": "{active["grant"]}"}}'.encode())
            return active["grant"]

    grant = asyncio.run(grants())
    deadline = time.monotonic() + 20
    while not hooks.bodies and time.monotonic() < deadline:
        time.sleep(0.05)
    [body] = hooks.bodies
    handler = namespace["on_grant_event"]
    with contextlib.redirect_stdout(io.StringIO()) as told:
        assert asyncio.run(handler(body)) == 204
        assert asyncio.run(handler(body)) == 204  # the same jti again: handled once
        assert asyncio.run(handler(body.replace(b".", b"", 1))) == 400
    lines = told.getvalue().splitlines()
    assert lines[0] == f"forget what {amara['webid']} shared under {grant} "
    assert len(lines) == 2 and lines[1].startswith("ignored:")
