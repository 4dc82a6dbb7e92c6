"""The access log's journal (issue #16): flushes spread over many pods append a piece per pod
instead of rewriting each pod's day, and the log the owner reads is the same before and after
the journal is folded, across restarts, several writers and a crash."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pod.access.agent import Agent
from pod.access.audit import FOLD_AT, JOURNAL_PIECES, AccessLog, AccessRecord
from pod.access.log_format import chunk_name, day_of, piece_name
from pod.access.tally import REFUSALS_KEPT, RESOURCES_COUNTED
from pod.resources.provision import create_pod
from pod.runtime import open_runtime
from pod.settings import Settings
from pod.settings import load as load_settings
from pod.store.sealed import PodKeys
from tests.conftest import cli, new_server
from tests.dpop import DPoPClient
from tests.postgres import fresh_database

BASE = "https://pod.example/"


def _init(data: Path) -> Path:
    cli("init", "--base-url", BASE, data_dir=data)
    return data


def _rec(pod: str, i: int, at: float, *, status: int = 200, agent: str | None = None,
         app: str | None = None) -> AccessRecord:
    return AccessRecord(at, agent, app, f"{BASE}{pod}/doc{i}.ttl", "read", "GET", status, None)


def _newest_first(records: list[AccessRecord]) -> list[AccessRecord]:
    return sorted(records, key=lambda r: -r.at)


def test_spread_flushes_append_pieces_and_read_back_exactly(tmp_path: Path) -> None:
    """120 pods, twelve flushes of records spread over them (a few pods busy): every pod's log
    is exactly what was recorded, while pending in the journal, after a restart folds it, and
    after the journal fills and folds."""
    settings = load_settings({"data_dir": _init(tmp_path / "data")})
    names = [f"pod{i}" for i in range(120)]
    written: dict[str, list[AccessRecord]] = {n: [] for n in names}
    now = float(int(time.time()))
    rnd = random.Random(7)

    async def first() -> None:
        rt = await open_runtime(settings)
        try:
            keys = {n: await rt.pods.create(n) for n in names}
            seq = 0
            for flush in range(12):
                for _ in range(160):
                    name = names[rnd.randrange(len(names))]
                    seq += 1
                    rec = _rec(name, seq, now + seq / 1000, agent=f"https://a{seq % 3}.example/#i",
                               app="app_x" if seq % 4 == 0 else None)
                    rt.log.record(keys[name], rec)
                    written[name].append(rec)
                busy = names[flush]  # one pod per flush brings a fold-sized batch
                for _ in range(FOLD_AT):
                    seq += 1
                    rec = _rec(busy, seq, now + seq / 1000, agent="https://b.example/#i")
                    rt.log.record(keys[busy], rec)
                    written[busy].append(rec)
                await rt.log.flush()
            async with rt.resources.store.read(keys["pod119"]) as reader:
                assert await reader.exists(piece_name(0))  # a quiet pod: pieces, no fold yet
            for name in names:
                got = await rt.log.query(keys[name], limit=10_000)
                assert got == _newest_first(written[name]), name
        finally:
            await rt.close()

    async def second() -> None:
        rt = await open_runtime(settings)
        try:
            for name in names:
                keys = await rt.pods.find(name)
                assert keys is not None
                assert await rt.log.query(keys, limit=10_000) == _newest_first(written[name])
            keys = await rt.pods.find("pod119")
            assert keys is not None
            for i in range(JOURNAL_PIECES + 5):  # the first flush folds; then pieces; then full
                rec = _rec("pod119", 100_000 + i, now + 100 + i)
                rt.log.record(keys, rec)
                written["pod119"].append(rec)
                await rt.log.flush()
            async with rt.resources.store.read(keys) as reader:
                assert await reader.exists(chunk_name(day_of(now), 0))
                assert not await reader.exists(piece_name(JOURNAL_PIECES))
            assert await rt.log.query(keys, limit=10_000) == _newest_first(written["pod119"])
            assert await rt.log.apps(keys) == sorted({r.app for r in written["pod119"]
                                                      if r.app is not None})
        finally:
            await rt.close()

    asyncio.run(first())
    asyncio.run(second())


def test_the_tally_reads_the_same_before_and_after_a_fold(tmp_path: Path) -> None:
    """A knocker's refusals spread over many flushes: the journal shows them as the fold will
    store them (the first REFUSALS_KEPT one by one, the rest as one aggregate)."""
    settings = load_settings({"data_dir": _init(tmp_path / "data")})
    knocker = "https://knock.example/card#me"
    now = float(int(time.time()))

    async def run() -> None:
        rt = await open_runtime(settings)
        try:
            keys = await rt.pods.create("p")
            for i in range(60):  # one refused request per flush: sixty pieces
                rt.log.record(keys, _rec("p", i, now + i / 10, status=403, agent=knocker))
                await rt.log.flush()
            before = await rt.log.query(keys)
            single = [r for r in before if not r.requests]
            [agg] = [r for r in before if r.requests]
            assert len(single) == REFUSALS_KEPT and agg.requests == 60 - REFUSALS_KEPT
            log = AccessLog(rt.resources.store, base_url=BASE)  # knows nothing: folds
            log.record(keys, _rec("p", 60, now + 6, status=403, agent=knocker))
            await log.flush()
            after = await log.query(keys)
            assert [r for r in after if not r.requests] == single
            [agg_after] = [r for r in after if r.requests]
            assert agg_after.requests == agg.requests + 1 and agg_after.first == agg.first
            async with rt.resources.store.read(keys) as reader:
                assert not await reader.exists(piece_name(0))
            await log.close()
        finally:
            await rt.close()

    asyncio.run(run())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings of a fresh data directory on SQLite, or on a PostgreSQL database of its own."""
    data = tmp_path / "data"
    if request.param == "sqlite":
        yield load_settings({"data_dir": _init(data)})
        return
    with fresh_database() as url:
        cli("init", "--base-url", BASE, "--store", url, data_dir=data)
        yield load_settings({"data_dir": data, "store": url})


def test_two_writers_of_one_pod_lose_and_repeat_nothing(store_settings: Settings) -> None:
    """Two logs over one store (as two processes over one database), taking turns on the same
    pods, each with its own stale idea of the journal: every record is read back once — their
    pieces refused where the other moved the journal, and folded instead."""
    settings = store_settings
    now = float(int(time.time()))

    async def run() -> None:
        rt = await open_runtime(settings)
        logs = [AccessLog(rt.resources.store, base_url=BASE) for _ in range(2)]
        try:
            keys: list[PodKeys] = [await rt.pods.create(f"w{i}") for i in range(3)]
            written: dict[bytes, list[AccessRecord]] = {k.pod_id: [] for k in keys}
            rnd = random.Random(3)
            for i in range(400):
                log, k = logs[rnd.randrange(2)], keys[rnd.randrange(3)]
                rec = _rec("w", i, now + i / 1000, agent="https://x.example/#i")
                log.record(k, rec)
                written[k.pod_id].append(rec)
                if rnd.random() < 0.3:
                    await log.flush()
            for log in logs:
                await log.flush()
            for k in keys:
                for log in logs:
                    assert await log.query(k, limit=10_000) == _newest_first(written[k.pod_id])
        finally:
            for log in logs:
                await log.close()
            await rt.close()

    asyncio.run(run())


def test_a_crash_loses_at_most_the_last_flush_interval(tmp_path: Path) -> None:
    """A live server logs a signed-in reader's reads of forty pods' public profiles (records,
    written within a second) and anonymous reads of them (counts, written within
    ``access_log_count_seconds``, 2 here); SIGKILL soon after those intervals: every read is in
    its pod's log after the restart, the anonymous ones as one count per resource."""
    srv = new_server(tmp_path)
    srv.env = {"COMMONPOD_ACCESS_LOG_COUNT_SECONDS": "2"}
    names = [f"crash{i}" for i in range(40)]

    async def provision() -> None:
        rt = await open_runtime(load_settings({"data_dir": srv.data_dir}))
        try:
            for name in names:
                await create_pod(rt.pods, rt.resources, name)
        finally:
            await rt.close()

    asyncio.run(provision())
    reader_account = srv.create_account("reader")
    srv.start()
    anonymous = dict.fromkeys(names, 0)
    signed_in = dict.fromkeys(names, 0)
    try:
        reader = DPoPClient(srv.base, reader_account)
        with httpx.Client(base_url=srv.base, timeout=20) as c:
            for round_ in range(5):
                for name in names[round_::2]:
                    assert c.get(f"/{name}/profile/card").status_code == 200
                    anonymous[name] += 1
                for name in names[round_::3]:
                    assert reader.request("GET", f"{srv.base}{name}/profile/card"
                                          ).status_code == 200
                    signed_in[name] += 1
        time.sleep(4.0)  # beyond the count interval (2 s) and a flush (1 s) after it
    finally:
        srv.stop(signal.SIGKILL)

    async def read() -> None:
        rt = await open_runtime(load_settings({"data_dir": srv.data_dir}))
        try:
            for name in names:
                keys = await rt.pods.find(name)
                assert keys is not None
                got = await rt.log.query(keys, limit=1000)
                counted = [r for r in got if r.agent is None]
                assert [r.target for r in counted] == [f"{srv.base}{name}/profile/card"] * (
                    1 if anonymous[name] else 0), name
                assert sum(r.requests for r in counted) == anonymous[name], name
                assert all(r.reads and r.method == "GET" and r.status == 200 for r in counted)
                records = [r for r in got if r.agent is not None]
                assert len(records) == signed_in[name], name
                assert all(r.agent == reader_account["webid"] and not r.requests
                           for r in records)
        finally:
            await rt.close()

    asyncio.run(read())


def test_anonymous_reads_are_counted_per_resource_and_day(tmp_path: Path) -> None:
    """Successful anonymous reads become one count per resource and UTC day: they wait in
    memory (no write within a second), go out with the pod's next records, show up at once in
    a query, add up across restarts and folds, and past RESOURCES_COUNTED resources a day
    share the anonymous aggregate."""
    settings = load_settings({"data_dir": _init(tmp_path / "data")})
    now = float(int(time.time()))
    yesterday = now - 86_400
    nobody = Agent()
    reader = Agent(webid="https://reader.example/card#me")

    async def first() -> None:
        rt = await open_runtime(settings)
        try:
            keys = await rt.pods.create("p")
            for i in range(3):
                rt.log.count(keys, f"{BASE}p/doc{i % 2}.ttl", "GET", at=now + i)
            rt.log.count(keys, f"{BASE}p/doc0.ttl", "HEAD", at=now + 5)
            rt.log.count(keys, f"{BASE}p/doc0.ttl", "GET", at=yesterday)
            rt.log.record_request(keys, BASE + "p/profile/card#me", nobody, f"{BASE}p/x",
                                  "read", "GET", 404, None)  # refused: neither kept nor counted
            await asyncio.sleep(1.5)  # a flush or more: counts alone wait
            async with rt.resources.store.read(keys) as r:
                assert not await r.exists(piece_name(0)) and not await r.exists("log:index")
            rt.log.record_request(keys, BASE + "p/profile/card#me", reader, f"{BASE}p/doc1.ttl",
                                  "read", "GET", 200, None)
            await asyncio.sleep(1.5)  # the record's flush takes the pod's counts along
            other = AccessLog(rt.resources.store, base_url=BASE)  # nothing buffered
            got = await other.query(keys)
            await other.close()
            counted = {(r.target, day_of(r.at)): r for r in got if r.reads}
            assert {k: (r.requests, r.first, r.at, r.method) for k, r in counted.items()} == {
                (f"{BASE}p/doc0.ttl", day_of(now)): (3, now, now + 5, "HEAD"),
                (f"{BASE}p/doc1.ttl", day_of(now)): (1, now + 1, now + 1, "GET"),
                (f"{BASE}p/doc0.ttl", day_of(yesterday)): (1, yesterday, yesterday, "GET")}
            assert all(r.agent is None and r.app is None and r.mode == "read"
                       and r.status == 200 and r.targets == (r.target,) for r in counted.values())
            assert [r.agent for r in got if not r.reads] == [reader.webid]
            assert day_of(yesterday) in await rt.log.days(keys)
            assert await rt.log.query(keys, kind="app") == []
            assert len(await rt.log.query(keys, kind="other")) == 4
            rt.log.count(keys, f"{BASE}p/doc1.ttl", "GET", at=now + 9)  # written at close
        finally:
            await rt.close()

    async def second() -> None:
        rt = await open_runtime(settings)
        try:
            keys = await rt.pods.find("p")
            assert keys is not None
            for i in range(RESOURCES_COUNTED + 1):  # the first flush after a start folds
                rt.log.count(keys, f"{BASE}p/many/{i}", "GET", at=now + 10)
            rt.log.count(keys, f"{BASE}p/doc1.ttl", "GET", at=now + 11)
            await rt.log.flush()
            got = await rt.log.query(keys, since=now, until=now + 86_399, limit=5000)
            reads = {r.target: r.requests for r in got if r.reads}
            assert reads[f"{BASE}p/doc1.ttl"] == 3 and reads[f"{BASE}p/doc0.ttl"] == 3
            assert len(reads) == RESOURCES_COUNTED  # doc0, doc1 and 998 of many/
            [beyond] = [r for r in got if r.requests and not r.reads]
            assert beyond.agent is None and beyond.requests == 3
            assert beyond.to_json()["aggregate"]["kind"] == "excess"
            assert next(r for r in got if r.reads).to_json()["aggregate"]["kind"] == "reads"
        finally:
            await rt.close()

    asyncio.run(first())
    asyncio.run(second())


def test_counts_past_the_cap_go_out_oldest_first(tmp_path: Path) -> None:
    """More counts waiting than max_counts: the next flush writes the pods whose counts began
    first until three quarters of the cap are left, without waiting for count_interval."""
    settings = load_settings({"data_dir": _init(tmp_path / "data")})

    async def run() -> None:
        rt = await open_runtime(settings)
        try:
            keys = [await rt.pods.create(f"c{i}") for i in range(3)]
            log = AccessLog(rt.resources.store, base_url=BASE, max_counts=8,
                            count_interval=300)
            await log.start()
            for k in keys:  # 4 resources each: 12 counts, c0's first
                for n in range(4):
                    log.count(k, f"{BASE}{k.pod_id.hex()}/doc{n}", "GET")
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)
            written = []
            for k in keys:
                async with rt.resources.store.read(k) as r:
                    written.append(await r.exists("log:index"))
            assert written == [True, True, False]  # 12 - 4 - 4 = 4 <= 6 left
            await log.close()  # writes the rest
            async with rt.resources.store.read(keys[2]) as r:
                assert await r.exists("log:index")
        finally:
            await rt.close()

    asyncio.run(run())
