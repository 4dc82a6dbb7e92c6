#!/usr/bin/env python3
"""Throughput with several worker processes, and on PostgreSQL (issue #15 §4).

Runs bench/run.py on Commonpod alone (the same rows, load and checks) four times: one worker
and two (`serve --workers 2`, through the setting ``COMMONPOD_WORKERS``), each on the embedded
SQLite store and on a fresh PostgreSQL database (``COMMONPOD_STORE``; created for the run and
dropped after). Then writes a table of every row's requests per second and server CPU per
request under the four configurations into docs/benchmarks.md between
``<!-- workers:start -->`` and ``<!-- workers:end -->`` (bench/run.py keeps that section when
it rewrites the file).

    python3 bench/workers.py                          # about 12 minutes
    python3 bench/workers.py --postgres postgresql://root@127.0.0.1:5432/postgres

The load generator (wrk, 10 connections) shares the machine with the server: on two cores,
two workers compete with wrk for the second core, so the gain shown is a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shlex
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUTPUT = REPO / "docs" / "benchmarks.md"
START, END = "<!-- workers:start -->", "<!-- workers:end -->"
CONFIGS = (("SQLite", 1), ("SQLite", 2), ("PostgreSQL", 1), ("PostgreSQL", 2))
ROW = re.compile(r"^\| (?P<label>[^|]+?) \| (?P<rate>[\d,.]+) \| [^|]* \| [^|]* \| "
                 r"(?P<latency>[^|]+?) \| [^|]* \| (?P<cpu>[\d.]+) \| [^|]* \| "
                 r"(?P<errors>[^|]+?) \|", re.MULTILINE)


def database_url(admin: str, name: str) -> str:
    parts = urlsplit(admin)
    return urlunsplit(parts._replace(path="/" + name))


async def _sql(admin: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def run_config(store: str, workers: int, args: argparse.Namespace, out: Path
               ) -> dict[str, tuple[float, str, float, str]]:
    """bench/run.py on Commonpod alone with this store and number of workers; every row's
    (requests/s, p50/p99, CPU ms/request, errors)."""
    env = [f"COMMONPOD_WORKERS={workers}"]
    database = None
    if store == "PostgreSQL":
        database = f"commonpod_bench_{uuid.uuid4().hex[:10]}"
        asyncio.run(_sql(args.postgres, f'CREATE DATABASE "{database}"'))
        env.append(f"COMMONPOD_STORE={database_url(args.postgres, database)}")
    try:
        command = ["env", *env, *shlex.split(args.commonpod)]
        subprocess.run([sys.executable, str(HERE / "run.py"), "--only", "commonpod",
                        "--duration", str(args.duration), "--commonpod", shlex.join(command),
                        "--output", str(out)], check=True, cwd=REPO)
    finally:
        if database is not None:
            asyncio.run(_sql(args.postgres, f'DROP DATABASE IF EXISTS "{database}" '
                                            "WITH (FORCE)"))
    text = out.read_text()
    return {m["label"].strip(): (float(m["rate"].replace(",", "")), m["latency"].strip(),
                                 float(m["cpu"]), m["errors"].strip())
            for m in ROW.finditer(text)}


def section(found: dict[tuple[str, int], dict[str, tuple[float, str, float, str]]],
            command: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    labels = list(found[CONFIGS[0]])
    head = [f"{store}, {n} worker{'s' if n > 1 else ''}" for store, n in CONFIGS]
    lines = [START, "", "## Workers and PostgreSQL (issue #15 §4)", "",
             f"Measured on {when} with `{command}`: bench/run.py on Commonpod alone, each "
             "configuration in turn (its docstring says how; rows as in the main table above).",
             "", "Requests per second (server CPU ms per request):", "",
             "| operation | " + " | ".join(head) + " | 2 workers ÷ 1, SQLite | "
             "2 workers ÷ 1, PostgreSQL | PostgreSQL ÷ SQLite, 1 worker |",
             "| --- |" + " --: |" * (len(head) + 3)]
    for label in labels:
        cells = [found[c].get(label) for c in CONFIGS]
        shown = [f"{c[0]:,.0f} ({c[2]:.2f})" if c else "–" for c in cells]
        rates = [c[0] if c else None for c in cells]

        def ratio(a: float | None, b: float | None) -> str:
            return f"{a / b:.2f}×" if a and b else "–"

        lines.append(f"| {label} | " + " | ".join(shown) + f" | {ratio(rates[1], rates[0])} | "
                     f"{ratio(rates[3], rates[2])} | {ratio(rates[2], rates[0])} |")
    errors = [f"{store} ×{n}: {label} {cell[3]}" for (store, n), rows in found.items()
              for label, cell in rows.items() if cell[3] not in ("0", "")]
    lines += ["", "Errors (non-2xx, socket errors, timeouts): " + ("; ".join(errors) or "none")
              + ". The checks after each run (writes read back whole, every 201 POST listed, "
              "the access log) passed in every configuration.", "", END]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--postgres", default="postgresql://root@127.0.0.1:5432/postgres",
                   help="a PostgreSQL database to create the run's database from")
    p.add_argument("--commonpod", default="commonpod")
    p.add_argument("--output", type=Path, default=OUTPUT)
    args = p.parse_args()
    found = {}
    with tempfile.TemporaryDirectory(prefix="workers-bench-") as tmp:
        for store, workers in CONFIGS:
            print(f"--- {store}, {workers} worker(s)", flush=True)
            found[(store, workers)] = run_config(store, workers, args,
                                                 Path(tmp) / f"{store}-{workers}.md")
    command = "python3 bench/workers.py" + (f" --duration {args.duration}"
                                            if args.duration != 10 else "")
    new = section(found, command)
    text = args.output.read_text() if args.output.exists() else ""
    if START in text:
        text = text[:text.index(START)] + new + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    args.output.write_text(text)
    print(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
