#!/usr/bin/env python3
"""Benchmark Commonpod against the Community Solid Server (CSS), side by side.

Starts both servers on 127.0.0.1, seeds the same resources into each, puts each alone
under the same load row by row (wrk, 10 connections), checks that what was written
under load reads back, and writes docs/benchmarks.md. The last rows are authenticated
(DPoP-bound tokens, a fresh proof per request) in an account's private pod on each server; on
Commonpod a second account then reads that pod through an access grant (grant check and
access-log record on every request). See bench/README.md.

    python3 bench/run.py                    # both servers, 10 s per row
    python3 bench/run.py --only css --duration 5 --output /tmp/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from dpop import MAX_PROOFS, PROOF_LIFETIME_S, PROOF_MARGIN, DPoPClient
from fixtures import (
    GRANT_BASELINE,
    GRANT_PATH,
    GRANT_ROW,
    LOG_LIMIT,
    PATCH_VALUE_CYCLE,
    SEED_CONCURRENCY,
    TARGETS,
    Layout,
    check_log,
    check_private,
    check_writes,
    dpop_rows,
    give_grant,
    grant_rows,
    layout_for,
    rows,
    seed,
    seed_private,
)
from report import Measurement, Report, machine_facts, render, results_table, summary_line
from servers import (
    BenchError,
    Server,
    css_version,
    others_cpu_seconds,
    start_commonpod,
    start_css,
    start_css_with_account,
)
from workload import LoadError, LoadResult, LoadSettings, ProofTable, Row, run_load

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
  Peak RSS: VmHWM at the end, summed alike. Commonpod's includes its worker processes
  (a forkserver and two workers, about 85 MiB each, that parse and check untrusted input
  under a time budget), which the rows with grants start.
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
DPOP_METHOD = """- DPoP rows: GET Turtle and PUT again, in an account's own pod, which only
  its owner may use. Every request carries `Authorization: DPoP <access token>` and its own DPoP
  proof (ES256, unique jti, ath), so the server checks a token and a signature per request.
  Tokens come from each server's client-credentials grant, fresh for every run. wrk cannot sign,
  so the proofs are made beforehand ({margin}× the requests expected from the row without
  credentials, at most {max_proofs:,}) and each is sent once; a run that uses them all up does
  not count. Commonpod: the same server, an account made with `commonpod account create` and a
  credential with `commonpod credentials create`. CSS: a second instance,
  `@css:config/file.json` at http://localhost:PORT/ (with 127.0.0.1 the CSS refuses every
  token), with an account, a pod and a client credential made through its account API; it
  idles during the other rows.
"""
GRANT_METHOD = """- Grant row (Commonpod only; the CSS has no access grants): a second
  account reads the first one's pod with its own client credential, through an access grant
  (`cp:AccessGrant`, read on the container, until 2099) that the owner PUT into `{grant}`
  before the rows. So every request also checks the grant (WAC ∪ the grants given to that
  WebID) and writes a record to the owner's access log, which the checks read back afterwards
  (`/.api/log`). Its ratio compares with the CSS's authenticated GET Turtle (DPoP). Every
  request by someone other than the pod's owner is logged; the anonymous reads of the rows on
  the public pod are counted (one count per document and day, written every 30 s).
"""
DEFAULT_RATE = 1000.0  # requests/s a DPoP row is assumed to reach when nothing says better
MAX_DPOP_RUN_S = 120  # a DPoP run must end well inside a proof's lifetime (PROOF_LIFETIME_S)


@dataclass
class Target:
    """Where some of a server's rows run: a container and its layout, and for the DPoP rows
    the client that authenticates as the owner of that container's pod (as the grantee, for
    a server seen through a grant: then `owner` is the owner's client)."""

    server: Server
    layout: Layout
    client: DPoPClient | None = None
    owner: DPoPClient | None = None


Steps = dict[str, tuple[Target, Row]]  # one server's rows by label, in the order they run


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
    parser.add_argument(
        "--no-auth",
        dest="auth",
        action="store_false",
        help="skip the authenticated (DPoP) rows and the servers' accounts",
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0 or args.connections < args.threads or args.threads < 1:
        parser.error("need --duration >= 1, --warmup >= 0 and --connections >= --threads >= 1")
    if args.auth and max(args.duration, args.warmup) > MAX_DPOP_RUN_S:
        parser.error(
            f"the DPoP rows need --duration and --warmup <= {MAX_DPOP_RUN_S} (their proofs must "
            f"be used within {PROOF_LIFETIME_S} s of being made); or pass --no-auth"
        )
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
    args.output.write_text(render(report) + _kept_sections(args.output), encoding="utf-8")
    print("\n" + results_table(report) + "\n")
    print(f"written to {args.output}")
    return 0


def _kept_sections(output: Path) -> str:
    """What other benchmarks wrote into the report between their markers
    (``<!-- NAME:start -->`` … ``<!-- NAME:end -->``: the shared view's, bench/shared_view.py,
    the reputation app's, bench/reputation.py), kept when this one rewrites the file."""
    old = output.read_text(encoding="utf-8") if output.exists() else ""
    kept = [m.group(0) for m in _SECTION.finditer(old)]
    return "".join("\n" + section + "\n" for section in kept)


_SECTION = re.compile(r"<!-- (?P<name>[a-z-]+):start -->.*?<!-- (?P=name):end -->", re.DOTALL)


def run(args: argparse.Namespace) -> Report:
    """Start the servers, seed, measure each row on each server in turn, check, stop."""
    _require("wrk", "install it with `apt-get install -y wrk`")
    settings = LoadSettings(args.connections, args.threads, args.timeout, args.duration)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="commonpod-bench-")))
        servers = _start_servers(args, workdir, stack)
        report = _new_report(args, settings)
        targets = [_prepare(server, args.children, report) for server in servers]
        _give_grants(targets, report)
        steps = _steps(targets)
        report.labels = list(dict.fromkeys(label for s in steps.values() for label in s))
        for index, label in enumerate(report.labels):
            for name, server_steps in steps.items():
                if label not in server_steps:
                    continue  # the grant row: Commonpod only
                target, row = server_steps[label]
                hint = _rate_hint(report, name, row)
                measured = _measure(target, row, index, settings, args.warmup, workdir, hint)
                _record(report, label, name, measured)
        for target in targets:
            _check(target, steps[target.server.name], report)
        _note_rss(targets, report)
    return report


def _start_servers(args: argparse.Namespace, workdir: Path, stack: ExitStack) -> list[Server]:
    """Start the servers asked for, each with an account for the DPoP rows unless --no-auth;
    `stack` stops them when the run ends, however it ends."""
    servers = []
    if args.only != "css":
        print("starting Commonpod ...", flush=True)
        started = start_commonpod(shlex.split(args.commonpod), workdir, account=args.auth)
        stack.callback(started[0].process.stop)
        servers += started
    if args.only != "commonpod":
        _require("node", "the CSS runs on Node.js")
        print("starting the CSS ...", flush=True)
        servers.append(start_css(args.css_dir, workdir))
        stack.callback(servers[-1].process.stop)
        if args.auth:
            print("starting a second CSS, with accounts, for the DPoP rows ...", flush=True)
            servers.append(start_css_with_account(args.css_dir, workdir))
            stack.callback(servers[-1].process.stop)
    return servers


def _prepare(server: Server, children: int, report: Report) -> Target:
    """Seed what `server`'s rows need: the public container, or (a server with credentials)
    the account's pod for the DPoP rows."""
    if server.credentials is None:
        layout = layout_for(server.root, children)
        _seed(server, layout, report)
        return Target(server, layout)
    layout, client = layout_for(server.root, 0), DPoPClient(server.credentials)
    if server.grantee:
        return Target(server, layout, client)  # the owner seeds; _give_grants lets it in
    print(f"[{server.name}] seeding the account's pod {server.root} ...", flush=True)
    seed_private(layout, client.headers)
    return Target(server, layout, client)


def _give_grants(targets: list[Target], report: Report) -> None:
    """For each target seen through a grant, have the owner of its pod (the target with
    credentials for the same pod) PUT an access grant to the grantee's WebID, and check that
    the grantee can read what the grant row reads."""
    for target in targets:
        if not target.server.grantee or target.client is None:
            continue
        owner = next(
            t.client
            for t in targets
            if t.client and not t.server.grantee and t.server.root == target.server.root
        )
        target.owner = owner
        who, by = target.client.credentials.webid, owner.credentials.webid
        print(f"[{target.server.name}] {by} grants {who} read on {target.layout.base} ...")
        url = give_grant(
            target.server.root,
            target.layout,
            (by, owner.headers),
            (who, target.client.headers),
        )
        report.grant_rows[GRANT_ROW] = GRANT_BASELINE
        _note(
            report,
            target.server.name,
            f"grant row: {who} reads {target.layout.base} through the grant {url} "
            f"(odrl:read, until 2099) from {by}",
        )


def _steps(targets: list[Target]) -> dict[str, Steps]:
    """Each server's rows by label: those without credentials, then the DPoP rows, then the
    row through a grant (Commonpod only)."""
    steps: dict[str, Steps] = {}
    for target in targets:
        if target.server.grantee:
            made = grant_rows(target.layout)
        elif target.client:
            made = dpop_rows(target.layout)
        else:
            made = rows(target.layout)
        steps.setdefault(target.server.name, {}).update({r.label: (target, r) for r in made})
    return steps


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
    if args.auth:
        method += DPOP_METHOD.format(margin=PROOF_MARGIN, max_proofs=MAX_PROOFS)
        if args.only != "css":
            method += GRANT_METHOD.format(grant=GRANT_PATH)
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
    _note(
        report,
        server.name,
        f"seeding: PUT {layout.children:,} children in {seconds:.1f} s ({rate:,.0f}/s, "
        f"{SEED_CONCURRENCY} at a time)",
    )


def _measure(
    target: Target,
    row: Row,
    index: int,
    settings: LoadSettings,
    warmup: int,
    workdir: Path,
    rate_hint: float,
) -> Measurement | None:
    """Warm up, let the server go idle, then measure one row and the server's CPU time.
    None when a DPoP run used up its proofs (it does not count)."""
    server, tag = target.server, _tag(target.server, index)
    if warmup:
        warm = _load(target, row, settings, warmup, f"{tag}w", workdir, rate_hint)
        rate_hint = max(rate_hint, warm.rate)
    server.process.wait_idle()
    proofs = _proofs(target, row, rate_hint, settings.duration_s)  # made after the wait
    before = server.process.cpu_seconds(), others_cpu_seconds(), time.monotonic()
    load = run_load(row, server.origin, settings, settings.duration_s, tag, workdir, proofs)
    made = (
        f" ({len(proofs.requests):,} proofs, {proofs.age():.0f} s old at the end)" if proofs else ""
    )
    server.process.wait_idle()  # until it has finished the requests the load generator dropped
    cpu = server.process.cpu_seconds() - before[0]
    others = others_cpu_seconds() - before[1] - cpu
    measurement = Measurement(load, cpu, others / (time.monotonic() - before[2]))
    if load.ran_out:
        print(f"[{server.name}] {row.label}: ran out of proofs{made}: not counted", flush=True)
        return None
    print(f"[{server.name}] {row.label}: {summary_line(measurement)}{made}", flush=True)
    if load.first_error:
        print(f"[{server.name}] {row.label}: first error: {load.first_error}", flush=True)
    return measurement


def _record(report: Report, label: str, server_name: str, measured: Measurement | None) -> None:
    """Put a measurement in the report; note a run that did not count or had errors."""
    if measured is None:
        _note(report, server_name, f"{label}: ran out of DPoP proofs, so not counted")
        return
    report.results[label, server_name] = measured
    if measured.load.first_error:
        _note(report, server_name, f"{label}: first error: {measured.load.first_error}")


def _load(
    target: Target,
    row: Row,
    settings: LoadSettings,
    seconds: int,
    tag: str,
    workdir: Path,
    rate_hint: float,
) -> LoadResult:
    """One unmeasured run of `row` (with proofs made for it if it is a DPoP row)."""
    proofs = _proofs(target, row, rate_hint, seconds)
    return run_load(row, target.server.origin, settings, seconds, tag, workdir, proofs)


def _proofs(target: Target, row: Row, rate: float, seconds: int) -> ProofTable | None:
    """For a DPoP row, a fresh token and proofs for a run of `seconds` at about `rate`."""
    if not row.dpop or target.client is None:
        return None
    urls = [target.server.origin + path for path in row.paths]
    return target.client.proof_table(row.method, urls, rate, seconds)


def _rate_hint(report: Report, server_name: str, row: Row) -> float:
    """The rate a DPoP row is expected to reach: that of its row without credentials."""
    baseline = report.results.get((row.baseline, server_name))
    return baseline.load.rate if baseline and baseline.load.rate else DEFAULT_RATE


def _check(target: Target, server_steps: Steps, report: Report) -> None:
    """Check that what PUT, PATCH and POST wrote under load reads back; note the outcome."""
    server = target.server
    server.process.wait_idle()
    if server.grantee:
        _check_log(target, report)
        return
    if target.client is not None:
        problems = check_private(target.layout, target.client.headers)
        where, done = " in the account's pod", "every PUT (DPoP) target read back whole"
    else:
        problems = _check_public(target, server_steps, report)
        where = ""
        done = "every PUT and PATCH target read back whole and every 201 POST was listed"
    note = f"after the load{where}, {done}"
    if problems:
        note = f"after the load{where}, lost or damaged: " + "; ".join(problems)
        print(f"[{server.name}] integrity problems: {note}", flush=True)
    _note(report, server.name, note)


def _check_log(target: Target, report: Report) -> None:
    """The owner of the pod the grant row read must find records in its access log: the
    newest of all, and the newest by the grantee. BenchError (the run fails) if not."""
    if target.owner is None or target.client is None:
        raise BenchError(f"{target.server.name}: no grant was given, so no log to check")
    base = target.server.origin + "/"
    pod = urlsplit(target.server.root).path.strip("/")
    owner = target.owner.headers
    newest = check_log(base, pod, owner)
    grantee = target.client.credentials.webid
    by_grantee = check_log(base, pod, owner, agent=grantee)
    sample = by_grantee[0]
    note = (
        f"access log: GET {base}.api/log?pod={pod}&limit={LOG_LIMIT} as the owner -> "
        f"{len(newest)} records; with agent={grantee}: {len(by_grantee)}, the newest "
        f"{sample.get('method')} {sample.get('target')} {sample.get('status')} under "
        f"grant {sample.get('grant')}"
    )
    print(f"[{target.server.name}] {note}", flush=True)
    _note(report, target.server.name, note)


def _check_public(target: Target, server_steps: Steps, report: Report) -> list[str]:
    """Problems with what PUT, PATCH and POST wrote in the public container."""
    post_label = next(label for label, (_, row) in server_steps.items() if row.method == "POST")
    post = report.results.get((post_label, target.server.name))
    if post is None:
        return ["the POST row did not run"]
    tag = _tag(target.server, report.labels.index(post_label))
    return check_writes(target.layout, post.load, tag)


def _note_rss(targets: list[Target], report: Report) -> None:
    """Peak RSS of each server process: in the table for those serving the public rows, in a
    note for one that serves only DPoP rows (the CSS with accounts)."""
    public = [t.server.process for t in targets if t.client is None]
    for target in targets:
        server, peak = target.server, target.server.process.peak_rss_mib()
        if target.client is None:
            report.peak_rss_mib[server.name] = peak
        elif server.process not in public:
            _note(report, server.name, f"the instance with accounts: peak RSS {peak:,.0f} MiB")


def _note(report: Report, server_name: str, note: str) -> None:
    """Add a line to a server's notes in the report."""
    report.notes.setdefault(server_name, []).append(note)


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
