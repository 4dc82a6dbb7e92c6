"""Cost flat in size (issue #15 §4): GET, PUT and a listing with about 1,000 resources in the
database and with about 1,000,000 (10,000 pods), on SQLite and on PostgreSQL.

    python3 bench/size.py --data DIR    # seeds (or reuses) both databases under DIR

Seeding is bench/spread.py's — in-process, through Commonpod's own runtime, the same sealed
writes a PUT makes: 10 pods × 100 documents (about 1,120 resources) and 10,000 pods × 100
(about 1,120,000). Each SQLite database is seeded once and kept under ``DIR`` (``small/``,
``large/``); a PostgreSQL database is a copy of it made by ``commonpod store copy`` (the sealed
rows as they are), in a fresh database that is dropped afterwards. The seeding time and the
database's size per resource are reported with each row.

Every configuration runs on a fresh ``commonpod serve`` with 10 connections, warm-up then the
measured seconds per row: GET of the 100 documents of pod ``p0`` in turn (anonymous: the
documents are public), PUT overwriting 4 documents in a publicly writable pod made after the
seeding, and GET of ``p0``'s container of 100 documents. The target: p99 with 1 M resources
within 1.5× of p99 with 1,000, on both backends.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
import uuid
from pathlib import Path

import spread
from servers import ServerProcess, _run, free_port
from workload import LoadSettings, Row, run_load

SIZES = {"small": 10, "large": 10_000}  # pods, each with PER_POD public documents
PER_POD = 100
TURTLE = (("Accept", "text/turtle"),)
PUT_BODY = "<#it> <http://purl.org/dc/terms/title> \"a document that is overwritten\" .\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, required=True, help="where the seeded databases live")
    p.add_argument("--postgres", default="postgresql://root@127.0.0.1:5432/postgres",
                   help="an admin URL of the PostgreSQL server (empty: SQLite only)")
    p.add_argument("--duration", type=int, default=10, help="measured seconds per row")
    p.add_argument("--warmup", type=int, default=5, help="unmeasured seconds before each row")
    p.add_argument("--commonpod", default="commonpod", help="how to run Commonpod's CLI")
    p.add_argument("--output", type=Path, help="write the table as Markdown here")
    return p.parse_args(argv)


def seed(args: argparse.Namespace, size: str) -> tuple[Path, float]:
    """The SQLite data directory of ``size``, seeded now unless it was; the seconds its
    seeding took (kept beside it)."""
    data = args.data / size
    took = data / "seeded-seconds"
    if not took.exists():
        port = free_port()
        seeding = argparse.Namespace(commonpod=args.commonpod, pods=SIZES[size],
                                     per_pod=PER_POD)
        seconds, _ = spread.seed(seeding, data, port)
        _run([*shlex.split(args.commonpod), "pod", "create", "sizebench", "--data-dir",
              str(data), "--public-write"])
        took.write_text(f"{seconds:.0f}\n")
    return data, float(took.read_text())


def _port_of(data: Path) -> int:
    for line in (data / "settings.toml").read_text().splitlines():
        if line.startswith("base_url"):
            return int(line.split(":")[-1].strip(" /\"'"))
    raise RuntimeError(f"{data}/settings.toml names no base_url")


def resources(size: str) -> int:
    """Resources in a database of ``size`` (bench/spread.py's count: documents, ``/pub/`` and
    its ACL, and what a new pod starts with)."""
    return SIZES[size] * (PER_POD + 12)


def measure(args: argparse.Namespace, data: Path, store: str | None, work: Path
            ) -> list[dict]:
    """The rows on a fresh server over ``data`` (its own SQLite file, or ``store``)."""
    port = _port_of(data)
    base = f"http://127.0.0.1:{port}"
    docs = tuple(f"/p0/pub/doc{n}.ttl" for n in range(PER_POD))
    puts = tuple(f"/sizebench/put-{n}.ttl" for n in range(4))
    rows = [Row("GET", "GET", docs, TURTLE),
            Row("PUT", "PUT", puts, (("Content-Type", "text/turtle"),), PUT_BODY),
            Row(f"GET container ({PER_POD} children)", "GET", ("/p0/pub/",), TURTLE)]
    env = [f"COMMONPOD_STORE={store}"] if store else []
    argv = ["env", *env, *shlex.split(args.commonpod), "serve", "--data-dir", str(data),
            "--port", str(port)]
    server = ServerProcess(argv, work / f"serve-{port}-{uuid.uuid4().hex[:6]}.log")
    out = []
    try:
        spread._wait_up(port)
        settings = LoadSettings(10, 2, 30, args.duration)
        for row in rows:
            if args.warmup:
                run_load(row, base, settings, args.warmup, "w", work)
            server.wait_idle()
            cpu = server.cpu_seconds()
            load = run_load(row, base, settings, args.duration, "m", work)
            server.wait_idle()
            cpu = server.cpu_seconds() - cpu
            out.append({"row": row.label, "rate": load.rate, "p50": load.p50_ms,
                        "p99": load.p99_ms, "cpu_ms": 1000 * cpu / max(load.requests, 1),
                        "errors": load.non_2xx + load.socket_errors})
    finally:
        server.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    results: list[tuple[str, str, float, float, list[dict]]] = []
    with tempfile.TemporaryDirectory(prefix="commonpod-size-") as tmp:
        work = Path(tmp)
        for size in SIZES:
            data, seeded = seed(args, size)
            db = sum(p.stat().st_size for p in data.iterdir()
                     if p.name.startswith("commonpod.db") and not p.name.endswith("-marks"))
            results.append(("SQLite", size, seeded, db, measure(args, data, None, work)))
            print(results[-1], flush=True)
            if not args.postgres:
                continue
            with spread.postgres_copy(args.postgres, args.commonpod, data) as (
                    url, copied, pg_bytes):
                results.append((f"PostgreSQL (copied in {copied:,.0f} s)", size, seeded,
                                pg_bytes, measure(args, data, url, work)))
                print(results[-1], flush=True)
    out = table(args, results)
    print(out)
    if args.output:
        args.output.write_text(out)
    return 0


def table(args: argparse.Namespace, results: list[tuple[str, str, float, float, list[dict]]]
          ) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `python3 "
        f"bench/size.py --data DIR` ({args.warmup} s of warm-up and {args.duration} s measured "
        "per row, 10 connections, each configuration on a fresh server; its docstring says "
        "how the databases are made).",
        "",
        "| backend | resources | seeding | bytes per resource | operation | req/s | "
        "p50 / p99 ms | CPU ms/req | p99 vs 1,000 | errors |",
        "| --- | --: | --: | --: | --- | --: | --: | --: | --: | --: |",
    ]
    small = {(backend.split(" ")[0], r["row"]): r["p99"]
             for backend, size, _, _, rows in results if size == "small" for r in rows}
    for backend, size, seeded, db, rows in results:
        count = resources(size)
        for r in rows:
            ratio = r["p99"] / small[(backend.split(" ")[0], r["row"])]
            lines.append(
                f"| {backend} | {count:,} | {seeded:,.0f} s | {db / count:,.0f} | {r['row']} | "
                f"{r['rate']:,.0f} | {r['p50']:.2f} / {r['p99']:.1f} | {r['cpu_ms']:.2f} | "
                f"{ratio:.2f}× | {r['errors']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
