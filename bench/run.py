#!/usr/bin/env python3
"""Benchmark Commonpod against the Community Solid Server (CSS), side by side.

Starts both servers on 127.0.0.1, seeds the same resources into each, puts each alone
under the same load row by row (wrk, 10 connections), checks that what was written
under load reads back, and writes docs/benchmarks.md. See bench/README.md.

    python3 bench/run.py                    # both servers, 10 s per row
    python3 bench/run.py --only css --duration 5 --output /tmp/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from fixtures import (
    PATCH_VALUE_CYCLE,
    SEED_CONCURRENCY,
    TARGETS,
    Layout,
    check_writes,
    layout_for,
    rows,
    seed,
)
from report import Measurement, Report, machine_facts, render, results_table, summary_line
from servers import (
    BenchError,
    Server,
    css_version,
    others_cpu_seconds,
    start_commonpod,
    start_css,
)
from workload import LoadError, LoadSettings, Row, run_load

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
METHOD = """
Each server alone under load: {connections} connections ({threads} wrk threads), {warmup} s of
  unmeasured warm-up, then {duration} s measured, per row; the two servers take turns row by row.
  The load generator and the servers share the machine.
- Load generator: wrk, with a Lua script per row. HEAD rows use a small asyncio client instead
  (bench/workload.py): wrk waits for the body a HEAD response announces, and stalls.
- CPU ms/req: the server's user + system CPU time (/proc/PID/stat, process and descendants) from
  the start of the measured run until the server is idle again, divided by the requests it got:
  those completed plus those still in flight when wrk stopped (the server finishes them too).
  Peak RSS: VmHWM at the end, summed alike.
- PUT overwrites {targets} seeded ~20-triple Turtle documents in turn. POST creates such documents
  in a container, each with a Slug. PATCH (N3 Patch, text/n3) inserts one triple into {targets}
  seeded documents in turn, its object drawn from {cycle} values per document, so a document grows
  by at most {cycle} triples. The container row lists a container of {children:,} small children.
- After the rows, each PUT and PATCH target is read back (it must hold the seeded marker literal)
  and the POST container must list every resource whose POST answered 201. wrk ends each run by
  closing its connections, cutting off the requests then in flight: a server must keep either the
  old or the new content of a resource whose write was cut off.
- Commonpod: a fresh `commonpod init` data directory and a pod made with --public-write. CSS:
  `@css:config/file-root.json` (file backend, publicly writable root), one process.
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of load per row (default 10)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="unmeasured seconds before each row (default 2)"
    )
    parser.add_argument(
        "--connections", type=int, default=10, help="concurrent connections (default 10)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--timeout", type=int, default=30, help="seconds before a request counts as timed out"
    )
    parser.add_argument(
        "--children", type=int, default=1000, help="children of the listed container"
    )
    parser.add_argument("--only", choices=["commonpod", "css"], help="run one server only")
    parser.add_argument(
        "--commonpod", default="commonpod", help="command that runs Commonpod's CLI"
    )
    parser.add_argument(
        "--css-dir",
        type=Path,
        default=CACHE / "commonpod-bench" / "css",
        help="npm folder holding the CSS; installed there if missing",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPO / "docs" / "benchmarks.md",
        help="Markdown file to write",
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0 or args.connections < args.threads or args.threads < 1:
        parser.error("need --duration >= 1, --warmup >= 0 and --connections >= --threads >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; write and print the report. Exit status 1 on a clear failure."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_signal)  # so that servers are stopped on SIGTERM too
    try:
        report = run(args)
    except (BenchError, LoadError) as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render(report), encoding="utf-8")
    print("\n" + results_table(report) + "\n")
    print(f"written to {args.output}")
    return 0


def run(args: argparse.Namespace) -> Report:
    """Start the servers, seed, measure each row on each server in turn, check, stop."""
    _require("wrk", "install it with `apt-get install -y wrk`")
    settings = LoadSettings(args.connections, args.threads, args.timeout, args.duration)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="commonpod-bench-")))
        servers = _start_servers(args, workdir, stack)
        report = _new_report(args, settings)
        layouts = {s.name: layout_for(s.root, args.children) for s in servers}
        for server in servers:
            _seed(server, layouts[server.name], report)
        server_rows = {s.name: rows(layouts[s.name]) for s in servers}
        report.labels = [row.label for row in server_rows[servers[0].name]]
        for index in range(len(report.labels)):
            for server in servers:
                row = server_rows[server.name][index]
                report.results[row.label, server.name] = _measure(
                    server, row, index, settings, args.warmup, workdir
                )
        for server in servers:
            _check(server, layouts[server.name], server_rows[server.name], report)
            report.peak_rss_mib[server.name] = server.process.peak_rss_mib()
    return report


def _start_servers(args: argparse.Namespace, workdir: Path, stack: ExitStack) -> list[Server]:
    """Start the servers asked for; `stack` stops them when the run ends, however it ends."""
    servers = []
    if args.only != "css":
        print("starting Commonpod ...", flush=True)
        servers.append(start_commonpod(shlex.split(args.commonpod), workdir))
        stack.callback(servers[-1].process.stop)
    if args.only != "commonpod":
        _require("node", "the CSS runs on Node.js")
        print("starting the CSS ...", flush=True)
        servers.append(start_css(args.css_dir, workdir))
        stack.callback(servers[-1].process.stop)
    return servers


def _new_report(args: argparse.Namespace, settings: LoadSettings) -> Report:
    """A report with everything but the measurements filled in."""
    command = "python3 bench/run.py" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    css = css_version(args.css_dir) if args.only != "commonpod" else None
    commonpod = shlex.split(args.commonpod) if args.only != "css" else None
    method = METHOD.format(
        connections=settings.connections,
        threads=settings.threads,
        warmup=args.warmup,
        duration=settings.duration_s,
        targets=TARGETS,
        cycle=PATCH_VALUE_CYCLE,
        children=args.children,
    )
    return Report(
        command=command,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine_facts(css, commonpod),
        method=method.strip().split("\n- "),
        labels=[],
    )


def _seed(server: Server, layout: Layout, report: Report) -> None:
    """Seed one server and note how long the container's children took."""
    print(f"[{server.name}] seeding {layout.children:,} children ...", flush=True)
    seconds = seed(layout)
    rate = layout.children / seconds if seconds else 0.0
    report.notes.setdefault(server.name, []).append(
        f"seeding: PUT {layout.children:,} children in {seconds:.1f} s ({rate:,.0f}/s, "
        f"{SEED_CONCURRENCY} at a time)"
    )


def _measure(
    server: Server, row: Row, index: int, settings: LoadSettings, warmup: int, workdir: Path
) -> Measurement:
    """Warm up, let the server go idle, then measure one row and the server's CPU time."""
    tag = _tag(server, index)
    if warmup:
        run_load(row, server.origin, settings, warmup, f"{tag}w", workdir)
    server.process.wait_idle()
    before = server.process.cpu_seconds(), others_cpu_seconds(), time.monotonic()
    load = run_load(row, server.origin, settings, settings.duration_s, tag, workdir)
    server.process.wait_idle()  # until it has finished the requests the load generator dropped
    cpu = server.process.cpu_seconds() - before[0]
    others = others_cpu_seconds() - before[1] - cpu
    measurement = Measurement(load, cpu, others / (time.monotonic() - before[2]))
    print(f"[{server.name}] {row.label}: {summary_line(measurement)}", flush=True)
    return measurement


def _check(server: Server, layout: Layout, server_rows: list[Row], report: Report) -> None:
    """Check that what PUT, PATCH and POST wrote under load reads back; note the outcome."""
    server.process.wait_idle()
    post_index = next(i for i, row in enumerate(server_rows) if row.method == "POST")
    post = report.results[server_rows[post_index].label, server.name]
    problems = check_writes(layout, post.load, _tag(server, post_index))
    note = (
        "after the load, every PUT and PATCH target read back whole and every 201 POST was listed"
    )
    if problems:
        note = "after the load, lost or damaged: " + "; ".join(problems)
        print(f"[{server.name}] integrity problems: {note}", flush=True)
    report.notes.setdefault(server.name, []).append(note)


def _tag(server: Server, index: int) -> str:
    """A name for one measured run: Lua script name and Slug prefix."""
    return f"{server.name.lower()}-r{index}"


def _require(program: str, hint: str) -> None:
    """Fail clearly when a program the run needs is not on PATH."""
    if shutil.which(program) is None:
        raise BenchError(f"`{program}` is not on PATH: {hint}")


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit so that the servers are stopped on the way out."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
