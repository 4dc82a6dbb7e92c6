"""Helpers for the rewards tests: a community on server A with the shared view (members join
through its real consent flow), members on servers A and B, and the rewards app's commands run
as real processes (``python -m apps.rewards``)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apps.sdk import Contribution, PodClient, RewardStatement, client_credentials
from tests.conftest import ROOT, Server, new_server
from tests.shared_view import App, join

ORGANISING = "https://commonpod.org/ns#EventOrganising"
CAFE = "https://repair.example/#cafe"


def rewards(world: dict[str, Any], *args: str, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
    """``python -m apps.rewards ARGS`` as the community (its credential and key file:
    ``world["key_file"]``, by default ``community.key`` in ``world["tmp"]``)."""
    tmp: Path = world["tmp"]
    key: Path = world.get("key_file", tmp / "community.key")
    creds = tmp / "community-credentials.json"
    if not creds.exists():
        creds.write_text(json.dumps(world["community"]))
        creds.chmod(0o600)
    common = ["--community", world["community"]["webid"], "--credentials", str(creds),
              "--key-file", str(key), "--timeout", "5"]
    done = subprocess.run([sys.executable, "-m", "apps.rewards", args[0], *common, *args[1:]],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ))
    if check and done.returncode != 0:
        raise AssertionError(f"rewards {args} failed:\n{done.stdout}\n{done.stderr}")
    return done


def record(who: dict[str, str], kind: str, n: int, days_ago: int = 10) -> list[str]:
    """``who`` records ``n`` recent contributions of ``kind``; their IRIs."""
    async def work() -> list[str]:
        session = await client_credentials(who["issuer"], who["client_id"],
                                           who["client_secret"])
        made = []
        async with PodClient(session) as pod:
            for i in range(n):
                url = who["pod"] + f"contributions/{kind.rsplit('#', 1)[-1].lower()}-{i}"
                when = datetime.now(UTC) - timedelta(days=days_ago + i)
                await pod.put(url, Contribution(
                    provider=who["webid"], name=f"event {i}", in_scope_of=(CAFE,),
                    kinds=(kind,), when=when.replace(microsecond=0)))
                made.append(url)
        return made

    return asyncio.run(work())


def badges_of(who: dict[str, str]) -> list[dict[str, Any]]:
    """The reward statements in ``who``'s pod, read by its owner, as stored (signed)."""
    async def work() -> list[dict[str, Any]]:
        session = await client_credentials(who["issuer"], who["client_id"],
                                           who["client_secret"])
        async with PodClient(session) as pod:
            found = await pod.collect(who["pod"], RewardStatement)
            assert not found.problems, found.problems
            return [r.credential for r in found.records if isinstance(r, RewardStatement)
                    and r.credential is not None]

    return asyncio.run(work())


def start_world(tmp: Path, layout: dict[str, tuple[str, ...]] | None = None
                ) -> dict[str, Any]:
    """Servers (``layout``: server name → its members; default A: ann, al and B: bea, bo),
    the community on A with its shared view running."""
    layout = layout or {"a": ("ann", "al"), "b": ("bea", "bo")}
    servers = {name: new_server(tmp / name) for name in layout}
    for srv in servers.values():
        srv.start()
    community = servers["a"].create_account("riverside")
    app = App(tmp, community, ("--name", "Riverside commons",
                               "--project", f"{CAFE}=Repair café"))
    people = {name: servers[srv].create_account(name) for srv, names in layout.items()
              for name in names}
    app.start()
    return {**servers, "servers": list(servers), "app": app, "community": community,
            "people": people, "tmp": tmp}


def stop_world(world: dict[str, Any]) -> None:
    world["app"].stop()
    for srv in world["servers"]:
        world[srv].stop()


def join_all(world: dict[str, Any], untick: dict[str, tuple[str, ...]]) -> None:
    """Every member joins through the shared view, unticking what ``untick`` says."""
    for name, who in world["people"].items():
        srv: Server = next(world[s] for s in world["servers"]
                           if who["pod"].startswith(world[s].base))
        browser, page = join(world["app"], srv, name, who["webid"],
                             untick=untick.get(name, ()))
        browser.close()
        assert page.status_code == 200 and "You are a member" in page.text, page.text
