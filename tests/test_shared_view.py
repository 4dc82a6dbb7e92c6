"""The shared view end to end (issue #12 §3): two Commonpod servers on loopback and the app as
its own process; seven members split across the servers join through the real consent flow;
the dashboard's figures are right and a category from fewer than k members is withheld; one
member revokes on server B and disappears, with nothing of theirs left in the app; with server
B stopped, the refresh reports B's pods unreachable while A's are read (A is the community's
own server: with it down the app could not sign in at all)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server, new_server
from tests.shared_view import (
    App,
    community_document,
    contribute,
    figures,
    join,
    revoke,
    servers,
)

CAFE = "https://repair.example/#cafe"
GARDEN = "https://garden.example/#plot"
ELSEWHERE = "https://other.example/#untracked"
CP = "https://commonpod.org/ns#"
FEWER = "fewer than 5 members"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    a = new_server(tmp_path_factory.mktemp("view-a"))
    b = new_server(tmp_path_factory.mktemp("view-b"))
    for srv in (a, b):
        srv.start()
    community = a.create_account("riverside")
    app = App(tmp_path_factory.mktemp("view-app"), community, (
        "--name", "Riverside commons", "--description", "Repairs and gardens by the river.",
        "--project", f"{CAFE}=Repair café", "--project", f"{GARDEN}=Community garden"))
    people = {name: srv.create_account(name) for srv, names in
              ((a, ("ann", "al", "ava", "abe", "ada")), (b, ("bea", "bo", "bix")))
              for name in names}
    try:
        app.start()
        yield {"a": a, "b": b, "app": app, "community": community, "people": people}
    finally:
        app.stop()
        for srv in (a, b):
            srv.stop()


def _record(people: dict[str, dict[str, str]]) -> None:
    for name, who in people.items():
        items = [("c1", CAFE, CP + "Code", "2025-05-10")]
        if name in ("ann", "al", "ava", "abe", "bea"):
            items.append(("c2", CAFE, CP + "Mentoring", "2025-06-02"))
        if name in ("bo", "bix"):
            items.append(("c3", GARDEN, CP + "Design", "2025-06-15"))
        if name == "bea":
            items.append(("c5", CAFE, CP + "Code", "2025-06-20"))
        if name == "abe":
            items.append(("c6", CAFE, CP + "Documentation", "2025-03-03"))
        if name == "ann":  # not in scope of a project the community tracks: never counted
            items.append(("c4", ELSEWHERE, CP + "CareWork", "2025-04-01"))
        contribute(who, items)


def test_seven_members_on_two_servers(world: dict[str, object]) -> None:
    a, b, app = world["a"], world["b"], world["app"]
    assert isinstance(a, Server) and isinstance(b, Server) and isinstance(app, App)
    people: dict[str, dict[str, str]] = world["people"]  # type: ignore[assignment]
    _record(people)

    # seven join; ann and bea agree to be named; ada allows nothing to be read: no member
    browsers = {}
    for name, who in people.items():
        srv = a if who["pod"].startswith(a.base) else b
        untick = () if name in ("ann", "bea") else ("named",)
        if name == "ada":
            untick = ("named", "contributions")
        # members name their WebID, except bix, who names her server
        browser, page = join(app, srv, name, srv.base if name == "bix" else who["webid"],
                             untick=untick)
        browsers[name] = browser
        if name == "ada":
            assert page.status_code == 400 and "Not joined" in page.text
        else:
            assert page.status_code == 200 and "You are a member" in page.text, page.text
    assert "yes, as ann" in browsers["ann"].get(app.base + "you").text

    # each join read the member who joined, and only them: the dashboard already counts all
    dashboard = browsers["al"].get(app.base)
    assert figures(dashboard)["total"] == "16"
    assert servers(dashboard) == {a.base: (4, 0, 0), b.base: (3, 0, 0)}
    page = app.refresh()
    shown = figures(page)
    assert shown["total"] == "16"
    assert shown[CAFE] == "14" and shown[GARDEN] == FEWER  # the garden: two members only
    assert shown[CP + "Code"] == "8" and shown[CP + "Mentoring"] == "5"
    assert shown[CP + "Design"] == FEWER and shown[CP + "Documentation"] == FEWER
    assert shown[CP + "CareWork"] == FEWER  # ann's care work is for no tracked project
    assert shown["2025-05"] == "7" and shown["2025-06"] == "8" and shown["2025-03"] == FEWER
    assert "2025-04" not in shown
    assert "7 members" in page.text and "<svg" in page.text
    assert "Named at their request: ann, bea, and others who stay unnamed" in page.text
    for name in ("al", "ava", "abe", "bo", "bix", "ada"):  # unnamed: nowhere on the page
        assert people[name]["webid"] not in page.text and people[name]["pod"] not in page.text
    assert servers(page) == {a.base: (4, 0, 0), b.base: (3, 0, 0)}
    members_ttl = community_document(world["community"], "members.ttl")  # type: ignore[arg-type]
    assert people["bo"]["webid"] in members_ttl and people["ada"]["webid"] not in members_ttl
    bo_page = browsers["bo"].get(app.base + "you")
    assert "2025-06" in bo_page.text and GARDEN in bo_page.text  # what the app holds of bo

    # bo withdraws on server B: the verified webhook removes him and what was held of him
    assert revoke(people["bo"], b)
    deadline = time.monotonic() + 20
    while people["bo"]["webid"] in community_document(world["community"], "members.ttl"):  # type: ignore[arg-type]
        assert time.monotonic() < deadline, app.log()
        time.sleep(0.2)
    page = app.refresh()
    shown = figures(page)
    assert shown["total"] == "14" and shown[CAFE] == "13" and shown[CP + "Code"] == "7"
    assert shown["2025-05"] == "6" and shown["2025-06"] == "7"
    assert "6 members" in page.text and "the app holds contributions of 6 members" in page.text
    assert servers(page) == {a.base: (4, 0, 0), b.base: (2, 0, 0)}
    gone = browsers["bo"].get(app.base + "you")
    assert "holds nothing about you" in gone.text and GARDEN not in gone.text
    assert people["bo"]["webid"] not in gone.text

    # server B stops: its two pods are reported unreachable, A's four are still read
    contribute(people["ann"], [("c7", CAFE, CP + "Code", "2025-07-01")])
    b.stop()
    page = app.refresh()
    assert servers(page) == {a.base: (4, 0, 0), b.base: (0, 2, 0)}
    shown = figures(page)
    assert shown[CP + "Code"] == "8" and shown["total"] == "15"  # ann's new one counted
    assert shown["2025-07"] == FEWER
    assert "unreachable" in browsers["bea"].get(app.base + "you").text
    for browser in browsers.values():
        browser.close()


def test_the_app_starts_with_one_command_and_says_what_is_wrong(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-m", "apps.shared_view", "--community",
                           "https://pods.example/c/", "--credentials", str(tmp_path / "none"),
                           "--public-url", "http://127.0.0.1:1/"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "credential file" in done.stderr
    helped = subprocess.run([sys.executable, "-m", "apps.cli", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert "shared-view" in helped.stderr
