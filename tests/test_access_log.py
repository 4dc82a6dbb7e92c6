"""The pod owner's access log: the sealed log itself (real store, real keys), the owner-only
API ``/.api/log`` and the page ``/.account/log`` against a live server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from pod.access.audit import AccessLog, AccessRecord
from pod.access.log_format import chunk_name, day_of
from pod.access.renderings import to_json, to_turtle
from pod.access.tally import REFUSALS_KEPT, tally_name
from pod.runtime import open_runtime
from pod.settings import load as load_settings
from pod.store.sealed import PodKeys
from tests.conftest import Server, cli, new_server
from tests.dpop import DPoPClient
from tests.test_accounts import login

PASSWORD = "a long enough password"  # what Server.create_account sets
BASE = "https://pod.example/"
DAY = 86400.0


def _database_bytes(data_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in data_dir.iterdir()
                    if p.name.startswith("commonpod.db"))


def _init(data: Path) -> Path:
    cli("init", "--base-url", BASE, data_dir=data)
    return data


def _records(pod: str, n: int, now: float) -> list[AccessRecord]:
    apps = ["app_calendar", "https://notes.example/app#id", None]
    return [AccessRecord(at=now - (n - i) * 0.5, agent=f"https://friend{i % 7}.example/card#me"
                         if i % 5 else None, app=apps[i % 3],
                         target=f"{BASE}{pod}/secretfolder/item{i}.ttl",
                         mode=("read", "append", "write", "control")[i % 4],
                         method=("GET", "POST", "PUT", "PATCH")[i % 4],
                         status=200 if i % 11 else 403,
                         grant=f"{BASE}{pod}/grants/g{i % 3}" if i % 2 else None)
            for i in range(n)]


# --- the log itself, on a real sealed store ----------------------------------------------------

def test_records_survive_a_restart_are_filtered_and_sealed(tmp_path: Path) -> None:
    data = _init(tmp_path / "data")
    settings = load_settings({"data_dir": data})
    now = float(int(time.time()))  # times are kept to the millisecond
    written = {"zebrapod": _records("zebrapod", 3000, now), "yakpod": _records("yakpod", 2000, now)}

    async def first() -> None:
        rt = await open_runtime(settings)
        try:
            for name, recs in written.items():
                keys = await rt.pods.create(name)
                for rec in recs:
                    rt.log.record(keys, rec)
            keys = await rt.pods.find("zebrapod")
            assert keys is not None
            # visible at once: the query flushes the pod's buffer first
            newest = await rt.log.query(keys, limit=10)
            assert newest == sorted(written["zebrapod"], key=lambda r: -r.at)[:10]
        finally:
            await rt.close()

    async def second() -> None:
        rt = await open_runtime(settings)
        try:
            for name, recs in written.items():
                keys = await rt.pods.find(name)
                assert keys is not None
                got = await rt.log.query(keys, limit=10_000)
                assert got == sorted(recs, key=lambda r: -r.at)
                assert await rt.log.apps(keys) == ["app_calendar", "https://notes.example/app#id"]
                cal = await rt.log.query(keys, app="app_calendar", limit=10_000)
                assert cal == [r for r in got if r.app == "app_calendar"] and cal
                who = "https://friend3.example/card#me"
                assert await rt.log.query(keys, agent=who, limit=10_000) == [
                    r for r in got if r.agent == who]
                since, until = now - 600, now - 300
                span = await rt.log.query(keys, since=since, until=until, limit=10_000)
                assert span == [r for r in got if since <= r.at < until] and span
                assert len(await rt.log.query(keys, limit=7)) == 7
        finally:
            await rt.close()

    asyncio.run(first())
    asyncio.run(second())
    blob = _database_bytes(data)
    for secret in (b"zebrapod", b"secretfolder", b"friend3.example", b"app_calendar",
                   b"notes.example", b"grants/g1", b"log:index"):
        assert secret not in blob, f"{secret!r} found in plaintext in the database"


def test_days_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    data = _init(tmp_path / "data")

    async def run() -> None:
        rt = await open_runtime(load_settings({"data_dir": data}))
        try:
            keys = await rt.pods.create("p")
            log = AccessLog(rt.resources.store, retention_days=30)
            now = float(int(time.time()))
            old = AccessRecord(now - 20 * DAY, None, None, BASE + "p/old", "read", "GET", 401)
            log.record(keys, old)
            await log.flush()
            assert await log.query(keys) == [old]
            log._clock = lambda: now + 15 * DAY  # the old day is now 35 days back
            assert await log.query(keys) == []  # out of retention: never shown
            new = AccessRecord(now + 15 * DAY, BASE + "p/profile/card#me", "app_x",
                               BASE + "p/new", "write", "PUT", 201)
            log.record(keys, new)
            await log.flush()  # and deleted on the next flush
            assert await log.query(keys) == [new]
            async with rt.resources.store.read(keys) as reader:
                assert not await reader.exists(chunk_name(day_of(old.at), 0))
                assert await reader.exists(chunk_name(day_of(new.at), 0))
            await log.close()
        finally:
            await rt.close()

    asyncio.run(run())


def test_a_busy_buffer_is_flushed_without_waiting_for_the_timer(tmp_path: Path) -> None:
    data = _init(tmp_path / "data")

    async def run() -> None:
        rt = await open_runtime(load_settings({"data_dir": data}))
        log = AccessLog(rt.resources.store, flush_interval=3600, max_buffer=100)
        try:
            keys = await rt.pods.create("p")
            await log.start()
            for rec in _records("p", 100, time.time()):
                log.record(keys, rec)
            for _ in range(1000):  # the flusher wakes at max_buffer, not after an hour
                await asyncio.sleep(0.01)  # (up to 10 s: a loaded machine is slow to flush)
                if not log._buffers:
                    break
            assert not log._buffers
            async with rt.resources.store.read(keys) as reader:
                assert await reader.exists("log:index")
        finally:
            await log.close()
            await rt.close()

    asyncio.run(run())


def test_renderings() -> None:
    recs = [AccessRecord(1_700_000_000.25, "https://a.example/card#me", "app_abc",
                         BASE + "p/doc", "read", "GET", 200, BASE + "p/grants/1"),
            AccessRecord(1_700_000_001.0, None, "https://app.example/id", "http://schema.org/Event",
                         "append", "POST", 403)]
    doc = to_json(recs, BASE + ".api/log?pod=p")
    assert doc["count"] == 2
    assert doc["records"][0] == {
        "at": "2023-11-14T22:13:20.250Z", "agent": "https://a.example/card#me",
        "app": "app_abc", "target": BASE + "p/doc", "mode": "read", "method": "GET",
        "status": 200, "allowed": True, "grant": BASE + "p/grants/1"}
    assert doc["records"][1]["allowed"] is False
    store = ox.Store()
    store.load(to_turtle(recs, BASE + ".api/log?pod=p"), format=ox.RdfFormat.TURTLE)
    AS = "https://www.w3.org/ns/activitystreams#"
    rows = {str(r["o"]) for r in store.query(
        f"SELECT ?o WHERE {{ ?a a <{AS}Activity> ; ?p ?o }}")}
    assert "<https://a.example/card#me>" in rows and "<http://schema.org/Event>" in rows
    assert "<http://www.w3.org/ns/auth/acl#Append>" in rows
    assert f"<{BASE}p/grants/1>" in rows and "<https://app.example/id>" in rows
    names = [str(r["n"]) for r in store.query(
        f"SELECT ?n WHERE {{ ?a <{AS}instrument> [ a <{AS}Application> ; <{AS}name> ?n ] }}")]
    assert names == ['"app_abc"']
    actors = list(store.query(f"SELECT ?a WHERE {{ ?a a <{AS}Activity> ; <{AS}actor> ?x }}"))
    assert len(actors) == 1  # anonymous: no actor


# --- the API and the page on a live server ---------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict, dict]]:
    srv = new_server(tmp_path_factory.mktemp("log"))
    alice, bob = srv.create_account("alice"), srv.create_account("bob")
    srv.start()
    yield srv, alice, bob
    srv.stop()


def _api(srv: Server, pod: str = "alice", **params: str) -> str:
    return str(httpx.URL(srv.base + ".api/log", params={"pod": pod, **params}))


def test_the_api_is_for_the_owner_only(live: tuple[Server, dict, dict]) -> None:
    srv, alice, bob = live
    anonymous = httpx.get(_api(srv))
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("DPoP")
    other = DPoPClient(srv.base, bob)
    for pod in ("alice", "nosuchpod"):  # no hint whether a pod exists
        refused = other.request("GET", _api(srv, pod))
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["status"] == 403
    owner = DPoPClient(srv.base, alice)
    got = owner.request("GET", _api(srv))
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("application/json")
    assert got.json()["records"] == [] and got.json()["count"] == 0
    turtle = owner.request("GET", _api(srv), headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    ox.Store().load(turtle.content, format=ox.RdfFormat.TURTLE)
    assert owner.request("GET", _api(srv), headers={"Accept": "image/png"}).status_code == 406
    bad = owner.request("GET", _api(srv, **{"from": "yesterday"}))
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert owner.request("GET", _api(srv, limit="0")).status_code == 400


def test_the_page_needs_a_session_and_shows_the_log(live: tuple[Server, dict, dict]) -> None:
    srv, alice, _ = live
    with httpx.Client(base_url=srv.base, timeout=20) as c:
        away = c.get("/.account/log")
        assert away.status_code == 303
        assert away.headers["location"].startswith("/.account/login?return_to=")
        assert login(c, "alice", PASSWORD).status_code == 303
        page = c.get("/.account/log")
        assert page.status_code == 200
        assert 'name="app"' in page.text and 'name="from"' in page.text
        assert 'name="to"' in page.text and "No access recorded" in page.text
        assert c.get("/.account/log", params={"from": "nope"}).status_code == 400

        # records written by another process into the live database show up at once
        async def write() -> None:
            rt = await open_runtime(load_settings({"data_dir": srv.data_dir}))
            try:
                keys: PodKeys | None = await rt.pods.find("alice")
                assert keys is not None
                for app in ("app_<b>x</b>", "app_plain"):
                    rt.log.record(keys, AccessRecord(
                        time.time(), bob_webid, app, srv.base + "alice/diary/today.ttl",
                        "read", "GET", 200, srv.base + "alice/grants/1"))
            finally:
                await rt.close()

        bob_webid = srv.base + "bob/profile/card#me"
        asyncio.run(write())
        page = c.get("/.account/log")
        assert page.status_code == 200
        assert "alice/diary/today.ttl" in page.text and bob_webid in page.text
        assert "app_<b>x</b>" not in page.text and "app_&lt;b&gt;x&lt;/b&gt;" in page.text
        only = c.get("/.account/log", params={"app": "app_plain"})
        assert only.text.count('<li class="entry') == 1
        assert "alice/diary/today.ttl" in only.text
        today = time.strftime("%Y-%m-%d", time.gmtime())
        past = c.get("/.account/log", params={"from": "2001-01-01", "to": "2001-01-02"})
        assert "alice/diary/today.ttl" not in past.text
        assert "alice/diary/today.ttl" in c.get("/.account/log",
                                                 params={"from": today, "to": today}).text
    got = DPoPClient(srv.base, alice).request("GET", _api(srv, app="app_plain"))
    assert [r["app"] for r in got.json()["records"]] == ["app_plain"]


def test_anonymous_reads_show_as_counts(live: tuple[Server, dict, dict]) -> None:
    """Anonymous GETs and HEADs of a public document show up at once, to the owner, as one
    count of that document's reads today: in JSON, in Turtle and on the page."""
    srv, alice, _ = live
    card = srv.base + "alice/profile/card"
    owner = DPoPClient(srv.base, alice)

    def counted() -> list[dict]:
        got = owner.request("GET", _api(srv, kind="other"))
        assert got.status_code == 200, got.text
        return [r for r in got.json()["records"]
                if r.get("aggregate", {}).get("kind") == "reads" and r["target"] == card]

    before = sum(r["aggregate"]["requests"] for r in counted())
    for method in ("GET", "GET", "HEAD", "GET"):
        assert httpx.request(method, card).status_code == 200
    assert httpx.get(srv.base + "alice/nothing-here").status_code == 401  # not counted
    [count] = counted()
    assert count["aggregate"]["requests"] == before + 4
    assert count["agent"] is None and count["app"] is None and count["mode"] == "read"
    assert count["method"] == "GET" and count["status"] == 200
    assert count["aggregate"]["targets"] == [card]
    turtle = owner.request("GET", _api(srv, kind="other"), headers={"Accept": "text/turtle"})
    assert f'"{before + 4} anonymous reads, counted together"' in turtle.text
    with httpx.Client(base_url=srv.base, timeout=20) as c:
        assert login(c, "alice", PASSWORD).status_code == 303
        page = c.get("/.account/log", params={"kind": "other"}).text
        assert "Visitors not signed in</span> read" in page
        assert f"{before + 4} times</strong>" in page
        home = " ".join(c.get("/.account/").text.split())  # the dashboard's recent accesses
        assert "Visitors not signed in read" in home and f"({before + 4} times that day)" in home
        assert "within\n  30 seconds" in page or "within 30 seconds" in " ".join(page.split())


def test_knocking_is_aggregated_across_restarts_and_pruned_with_its_day(tmp_path: Path) -> None:
    data = _init(tmp_path / "data")
    settings = load_settings({"data_dir": data})
    knocker, owner = "https://knock.example/card#me", BASE + "p/profile/card#me"
    now = float(int(time.time()))
    old_day = day_of(now - DAY)

    def refused(i: int, agent: str = knocker, app: str | None = None) -> AccessRecord:
        return AccessRecord(now + i / 1000, agent, app, f"{BASE}p/secret/{i}", "read", "GET",
                            403)

    async def first() -> None:
        rt = await open_runtime(settings)
        try:
            keys = await rt.pods.create("p")
            async with rt.resources.store.write(keys) as tx:  # yesterday, by format 2
                row = [int((now - DAY) * 1000), knocker, None, "/p/old", "read", "GET", 403,
                       None]
                await tx.put(chunk_name(old_day, 0), json.dumps({"v": 2, "r": [row]}).encode())
                await tx.put("log:index", json.dumps(
                    {"v": 2, "days": {old_day: [1, 1]}, "apps": {}}).encode())
            for i in range(50):
                rt.log.record(keys, refused(i))
                rt.log.record(keys, refused(i, owner, "app_mine"), owner_app=True)
        finally:
            await rt.close()

    async def second() -> None:
        rt = await open_runtime(settings)
        try:
            keys = await rt.pods.find("p")
            assert keys is not None
            for i in range(50, 80):  # the tally is stored: the cap holds after a restart
                rt.log.record(keys, refused(i))
            got = await rt.log.query(keys, agent=knocker)
            assert got[-1].target == BASE + "p/old"  # yesterday's, format 2, still read
            single = [r for r in got[:-1] if not r.requests]
            [agg] = [r for r in got if r.requests]
            assert len(single) == REFUSALS_KEPT and agg.requests == 80 - REFUSALS_KEPT
            assert agg.first == refused(REFUSALS_KEPT).at and agg.at == refused(79).at
            assert agg.targets == tuple(f"{BASE}p/secret/{i}" for i in range(20, 25))
            mine = await rt.log.query(keys, kind="app")
            assert len(mine) == 50 and not any(r.requests for r in mine)  # all kept
            assert await rt.log.query(keys, kind="other") == got
            assert await rt.log.query(keys, since=now + 1, until=now + 2) == []
            spanned = await rt.log.query(keys, agent=knocker, since=now + 0.075)
            assert spanned == [agg, *[r for r in single if r.at >= now + 0.075]]
            log = AccessLog(rt.resources.store, base_url=BASE, retention_days=1)
            log._clock = lambda: now + 3 * DAY
            log.record(keys, refused(3 * 86_400_000))
            await log.flush()  # the old day goes, tally and all
            async with rt.resources.store.read(keys) as reader:
                assert not await reader.exists(tally_name(day_of(now)))
                assert not await reader.exists(chunk_name(day_of(now), 0))
                assert not await reader.exists(chunk_name(old_day, 0))
            await log.close()
        finally:
            await rt.close()

    asyncio.run(first())
    asyncio.run(second())


def test_a_record_that_cannot_be_stored_never_blocks_the_log(tmp_path: Path) -> None:
    """A record with a field of the wrong type (a forged token once carried a numeric WebID)
    is dropped; the records around it are written and the log keeps working."""
    data = _init(tmp_path / "data")
    now = float(int(time.time()))
    good = _records("quailpod", 3, now)
    bad = AccessRecord(at=now, agent=123, app=None, target=f"{BASE}quailpod/x",  # type: ignore[arg-type]
                       mode="read", method="GET", status=200, grant=None)

    async def run() -> None:
        rt = await open_runtime(load_settings({"data_dir": data}))
        try:
            keys = await rt.pods.create("quailpod")
            rt.log.record(keys, good[0])
            rt.log.record(keys, bad)
            rt.log.record(keys, good[1])
            await rt.log.flush()
            rt.log.record(keys, good[2])
            assert await rt.log.query(keys, limit=10) == sorted(good, key=lambda r: -r.at)
        finally:
            await rt.close()

    asyncio.run(run())
