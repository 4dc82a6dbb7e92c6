"""Anonymous GETs of random documents spread over N pods, in one large database (issue #16).

    python3 bench/spread.py         # 10,000 pods x 100 documents; N = 10, 1,000, 10,000
    python3 bench/spread.py --pods 1000 --per-pod 10 --spans 10,100,1000  # a quick look

Seeding runs in-process, through Commonpod's own runtime (the same sealed writes a PUT makes,
many pods at once so that group commit shares the syncs, durability "normal" while seeding):
every pod gets its starting resources plus ``--per-pod`` small Turtle documents in a publicly
readable ``/pub/`` container. ``--data DIR`` keeps the seeded data directory and reuses it when
it exists. Then, for each N, a fresh ``commonpod serve`` is put under wrk load for
``--warmup`` + ``--duration`` seconds: anonymous GETs of documents chosen at random (fixed seed)
among the first N pods — each counted in its owner's access log (counts are written every 30 s,
so the default warm-up and measured run each last at least that: the CPU measured is the steady
state's, those writes included). Reported per N: requests
per second, p50/p99, server CPU per request (the access-log flushes included: the CPU is read
once the server is idle again), peak RSS and the server's own (anonymous) memory. The table is
printed and, with ``--output``,
written as Markdown. Single runs on a shared machine spread by ±10 % in CPU and ±20 % in p99:
``--rounds K`` runs every N K times, reversing the order of N every other round so that a
drift of the machine's speed falls on every N alike, and reports the medians beside each run.

With ``--postgres ADMIN_URL`` the same runs follow on PostgreSQL: a fresh database holding a
``commonpod store copy`` of the seeded SQLite file (sealed rows as they are), dropped afterwards;
those rows also report the CPU the PostgreSQL processes used per request.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from servers import ServerProcess, _run, free_port, postgres_cpu_seconds
from workload import LoadSettings, Row, run_load

ACL = """@prefix acl: <http://www.w3.org/ns/auth/acl#>.
<#public> a acl:Authorization; acl:agentClass <http://xmlns.com/foaf/0.1/Agent>;
  acl:accessTo <./>; acl:default <./>; acl:mode acl:Read.
<#owner> a acl:Authorization; acl:agent <{webid}>; acl:accessTo <./>; acl:default <./>;
  acl:mode acl:Read, acl:Write, acl:Control.
"""
DOCUMENT = "<#it> <http://purl.org/dc/terms/title> \"document {n} of pod {pod}\" .\n"
GROUP = 64  # pods seeded at once


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--per-pod", type=int, default=100, help="documents per pod")
    p.add_argument("--spans", default="10,1000,10000", help="the N pods the GETs fall on")
    p.add_argument("--duration", type=int, default=30, help="measured seconds per N")
    p.add_argument("--warmup", type=int, default=60, help="unmeasured seconds before")
    p.add_argument("--connections", type=int, default=10)
    p.add_argument("--data", type=Path, help="data directory to seed (or reuse if seeded)")
    p.add_argument("--commonpod", default="commonpod", help="how to run Commonpod's CLI")
    p.add_argument("--postgres", default="",
                   help="an admin URL of a PostgreSQL server: run on a copy there too")
    p.add_argument("--rounds", type=int, default=1,
                   help="runs per N and store, the order of N reversed every other round; "
                        "the table gives each run and the medians")
    p.add_argument("--output", type=Path, help="write the table as Markdown here")
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


async def _seed_pod(rt: Any, name: str, per_pod: int) -> None:
    from pod.resources.conditions import Conditions
    from pod.resources.paths import parse_target
    from pod.resources.provision import create_pod

    made = await create_pod(rt.pods, rt.resources, name)
    keys, service = await rt.pods.find(name), rt.resources
    webid = made.webid
    for n in range(per_pod):
        await service.put(keys, parse_target(f"/{name}/pub/doc{n}.ttl"),
                          DOCUMENT.format(n=n, pod=name).encode(), "text/turtle", Conditions())
        if n == 0:  # the container exists now: make it readable by everyone
            await service.put(keys, parse_target(f"/{name}/pub/.acl"),
                              ACL.format(webid=webid).encode(), "text/turtle", Conditions())


async def _seed(data: Path, pods: int, per_pod: int) -> None:
    from pod.runtime import open_runtime
    from pod.settings import load

    rt = await open_runtime(load({"data_dir": data, "durability": "normal"}))
    try:
        for start in range(0, pods, GROUP):
            await asyncio.gather(*(_seed_pod(rt, f"p{i}", per_pod)
                                   for i in range(start, min(start + GROUP, pods))))
            if start % 1000 == 0:
                print(f"  seeded {start:,} pods", flush=True)
    finally:
        await rt.close()


def seed(args: argparse.Namespace, data: Path, port: int) -> tuple[float, int]:
    """Seed (unless ``data`` is seeded already); returns seconds taken and database bytes."""
    marker = data / "spread-seeded"
    started = time.monotonic()
    if not marker.exists():
        _run([*args.commonpod.split(), "init", "--data-dir", str(data), "--base-url",
              f"http://127.0.0.1:{port}/"])
        asyncio.run(_seed(data, args.pods, args.per_pod))
        marker.write_text(f"{args.pods} {args.per_pod}\n")
    size = sum(p.stat().st_size for p in data.iterdir() if p.name.startswith("commonpod.db"))
    return time.monotonic() - started, size


async def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    """Run one SQL statement on ``url``; its rows."""
    import asyncpg
    conn = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await conn.fetch(statement)]
    finally:
        await conn.close()


@contextmanager
def postgres_copy(admin_url: str, commonpod: str, data: Path
                  ) -> Iterator[tuple[str, float, int]]:
    """A fresh PostgreSQL database holding ``commonpod store copy`` of the SQLite file of
    ``data``: its URL, the seconds the copy took and its size in bytes; dropped afterwards."""
    name = f"cp_bench_{uuid.uuid4().hex[:12]}"
    url = urlsplit(admin_url)._replace(path="/" + name).geturl()
    asyncio.run(sql(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        started = time.monotonic()
        _run([*shlex.split(commonpod), "store", "copy", "--from", str(data / "commonpod.db"),
              "--to", url])
        copied = time.monotonic() - started
        asyncio.run(sql(url, "VACUUM ANALYZE"))
        [(size,)] = asyncio.run(sql(url, "SELECT pg_database_size(current_database())"))
        assert isinstance(size, int)
        yield url, copied, size
    finally:
        asyncio.run(sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def measure(args: argparse.Namespace, data: Path, port: int, span: int, work: Path,
            store: str | None = None) -> dict:
    """One N on a fresh server over ``data`` (its SQLite file, or ``store``)."""
    rnd = random.Random(span)
    paths = tuple(f"/p{rnd.randrange(span)}/pub/doc{rnd.randrange(args.per_pod)}.ttl"
                  for _ in range(20_000))
    row = Row(f"GET over {span:,} pods", "GET", paths, (("Accept", "text/turtle"),))
    env = [f"COMMONPOD_STORE={store}"] if store else []
    argv = ["env", *env, *args.commonpod.split(), "serve", "--data-dir", str(data), "--port",
            str(port)]
    server = ServerProcess(argv, work / f"serve-{span}-{uuid.uuid4().hex[:6]}.log")
    try:
        _wait_up(port)
        origin = f"http://127.0.0.1:{port}"
        settings = LoadSettings(args.connections, 2, 30, args.duration)
        if args.warmup:
            run_load(row, origin, settings, args.warmup, f"w{span}", work)
        server.wait_idle()
        cpu, pg_cpu = server.cpu_seconds(), postgres_cpu_seconds()
        load = run_load(row, origin, settings, args.duration, f"m{span}", work)
        server.wait_idle()  # the access log's flushes of these requests count
        cpu, pg_cpu = server.cpu_seconds() - cpu, postgres_cpu_seconds() - pg_cpu
        requests = max(load.requests, 1)
        return {"span": span, "store": "PostgreSQL" if store else "SQLite", "rate": load.rate,
                "p50": load.p50_ms, "p99": load.p99_ms, "cpu_ms": 1000 * cpu / requests,
                "pg_cpu_ms": 1000 * pg_cpu / requests if store else None,
                "rss": server.peak_rss_mib(), "anon": server.anon_rss_mib(),
                "errors": load.non_2xx + load.socket_errors}
    finally:
        server.stop()


def measure_rounds(args: argparse.Namespace, data: Path, port: int, spans: list[int],
                   work: Path, store: str | None = None) -> list[dict]:
    """Every N of ``spans`` ``args.rounds`` times, in reverse order every other round."""
    runs = []
    for round_ in range(args.rounds):
        for span in spans if round_ % 2 == 0 else spans[::-1]:
            runs.append(measure(args, data, port, span, work, store))
            print(runs[-1], flush=True)
    return runs


def medians(runs: list[dict]) -> list[dict]:
    """One row per store and N: the medians of its runs (peak memory: the largest; errors:
    the sum), with each run's p99 and CPU kept in ``each``."""
    rows = []
    for key in dict.fromkeys((r["store"], r["span"]) for r in runs):
        mine = [r for r in runs if (r["store"], r["span"]) == key]
        row = {k: statistics.median(r[k] for r in mine)
               for k in ("rate", "p50", "p99", "cpu_ms")}
        pg = [r["pg_cpu_ms"] for r in mine if r["pg_cpu_ms"] is not None]
        row |= {"store": key[0], "span": key[1], "pg_cpu_ms": statistics.median(pg) if pg
                else None, "rss": max(r["rss"] for r in mine),
                "anon": max(r["anon"] for r in mine),
                "errors": sum(r["errors"] for r in mine),
                "each": [(r["p99"], r["cpu_ms"]) for r in mine]}
        rows.append(row)
    return rows


def _wait_up(port: int, timeout_s: float = 120.0) -> None:
    import http.client
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("HEAD", "/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    raise RuntimeError("the server did not start")


def table(args: argparse.Namespace, rows: list[dict], seeded_s: float, size: int,
          pg: tuple[float, int] | None = None) -> str:
    """The Markdown report; ``pg``: the seconds the PostgreSQL copy took and its size."""
    resources = args.pods * (args.per_pod + 12)  # documents, /pub/ and its ACL, starting ones
    base = rows[0]
    lines = [
        f"Random anonymous GETs over N pods in one database of {args.pods:,} pods and about "
        f"{resources:,} resources ({size / 1e9:.2f} GB, {size / resources:,.0f} bytes per "
        f"resource; "
        + (f"seeding took {seeded_s:,.0f} s" if seeded_s >= 1 else
           "seeded by an earlier run, kept with `--data`")
        + f"). Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`python3 bench/spread.py --pods {args.pods} --per-pod {args.per_pod} --spans "
        f"{args.spans} --warmup {args.warmup} --duration {args.duration}"
        + (f" --rounds {args.rounds}" if args.rounds > 1 else "")
        + (" --postgres URL" if pg else "") + f"`; {args.connections} connections, "
        f"{args.warmup} s of warm-up and {args.duration} s measured per N, each on a fresh "
        "server"
        + (f"; {args.rounds} runs per N and store, the order of N reversed every other round, "
           "the medians in the table and each run's p99 and CPU after it" if args.rounds > 1
           else "") + "."
        + (f" PostgreSQL: a `commonpod store copy` of that SQLite file (copied in {pg[0]:,.0f} s;"
           f" {pg[1] / 1e9:.2f} GB, {pg[1] / resources:,.0f} bytes per resource)." if pg else ""),
        "",
        "| store | N pods | req/s | p50 / p99 ms | CPU ms/req | CPU vs N = "
        f"{base['span']:,} | p99 vs N = {base['span']:,} | PostgreSQL CPU ms/req "
        "| peak RSS MiB | own memory MiB | errors |",
        "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
    ]
    for r in rows:
        first = next(b for b in rows if b["store"] == r["store"])  # ratios within a store
        pg_cpu = "–" if r["pg_cpu_ms"] is None else f"{r['pg_cpu_ms']:.2f}"
        lines.append(f"| {r['store']} | {r['span']:,} | {r['rate']:,.0f} | "
                     f"{r['p50']:.2f} / {r['p99']:.1f} | {r['cpu_ms']:.2f} | "
                     f"{r['cpu_ms'] / first['cpu_ms']:.2f}× | {r['p99'] / first['p99']:.2f}× | "
                     f"{pg_cpu} | {r['rss']:,.0f} | {r['anon']:,.0f} | {r['errors']} |")
    if args.rounds > 1:
        lines += ["", "| store | N pods | p99 ms, each run | CPU ms/req, each run |",
                  "| --- | --: | --- | --- |"]
        lines += [f"| {r['store']} | {r['span']:,} | "
                  + ", ".join(f"{p99:.1f}" for p99, _ in r["each"]) + " | "
                  + ", ".join(f"{cpu:.2f}" for _, cpu in r["each"]) + " |" for r in rows]
    lines += ["", "Peak RSS counts the database pages SQLite reads through memory mapping "
              "(setting `sqlite_mmap_mb`, 256 MiB by default), which are the kernel's file "
              "cache; own memory is the server's resident anonymous memory (RssAnon) at the end "
              "of the run: its heap and caches. CPU ms/req is Commonpod's; on PostgreSQL the "
              "database's own processes used the PostgreSQL column besides."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="commonpod-spread-") as tmp:
        work = Path(tmp)
        data = args.data or work / "data"
        port = free_port()
        if args.data and (data / "settings.toml").exists():  # the port it was seeded for
            for line in (data / "settings.toml").read_text().splitlines():
                if line.startswith("base_url"):
                    port = int(line.split(":")[-1].strip(" /\"'"))
        seeded_s, size = seed(args, data, port)
        print(f"seeded in {seeded_s:,.0f} s, {size / 1e9:.2f} GB", flush=True)
        runs: list[dict] = []
        spans = [int(s) for s in args.spans.split(",")]
        runs += measure_rounds(args, data, port, spans, work)
        pg = None
        if args.postgres:
            with postgres_copy(args.postgres, args.commonpod, data) as (url, copied, pg_size):
                pg = (copied, pg_size)
                print(f"copied to PostgreSQL in {copied:,.0f} s, {pg_size / 1e9:.2f} GB",
                      flush=True)
                runs += measure_rounds(args, data, port, spans, work, url)
        out = table(args, medians(runs), seeded_s, size, pg)
        print(out)
        if args.output:
            args.output.write_text(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
