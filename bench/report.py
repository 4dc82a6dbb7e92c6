"""Turning measurements into docs/benchmarks.md (and the table printed to stdout)."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from workload import LoadResult

SERVERS = ("Commonpod", "CSS")
FEW_REQUESTS = 100  # below this, the percentiles are rough
NO_GRANTS = "– (no grants)"  # a CSS cell of a row that needs access grants


@dataclass(frozen=True)
class Measurement:
    """One row on one server: what the load generator saw, and the server's CPU time
    from the start of the run until the server was idle again."""

    load: LoadResult
    cpu_s: float
    others_cpu_share: float  # CPUs used meanwhile by everything but this server and bench/

    @property
    def cpu_ms_per_request(self) -> float | None:
        """Server CPU milliseconds per request received (completed or dropped in flight)."""
        received = self.load.requests + self.load.abandoned
        return self.cpu_s * 1e3 / received if received else None


@dataclass
class Report:
    """Everything docs/benchmarks.md says."""

    command: str
    date: str
    machine: list[tuple[str, str]]
    method: list[str]
    labels: list[str]
    results: dict[tuple[str, str], Measurement] = field(default_factory=dict)  # (label, server)
    peak_rss_mib: dict[str, float] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)  # server -> notes
    # rows run on Commonpod only, through an access grant -> the same request by the pod's
    # owner (its CSS figure is the ratio's denominator, its Commonpod figure the cost's base)
    grant_rows: dict[str, str] = field(default_factory=dict)


def render(report: Report) -> str:
    """The whole Markdown document."""
    lines = [
        "# Benchmarks: Commonpod and the Community Solid Server",
        "",
        f"Measured on {report.date} with `{report.command}` (written by `bench/run.py`; see",
        "`bench/README.md` for what each row does).",
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in report.machine],
        "",
        "## How",
        "",
        *[f"- {line}" for line in report.method],
        "",
        "## Results",
        "",
        results_table(report),
        "",
        f"ratio = Commonpod ÷ CSS. † fewer than {FEW_REQUESTS} requests completed, so the",
        "percentiles are rough. Errors are responses that were not 2xx (statuses in brackets),",
        "plus socket errors and timeouts.",
        *_grant_footnote(report),
        "",
        *_grant_cost(report),
        "## Requests, statuses and the rest of the machine",
        "",
        statuses_table(report),
        "",
        "others' CPU: CPU time that everything except the measured server and bench/ itself (with",
        "wrk) used during the row, as a share of one CPU (100% = one CPU busy all along). Another",
        "server idling, other users' jobs: above a few per cent, the row was disturbed.",
        "",
        "## Seeding and checks after the load",
        "",
    ]
    for server in SERVERS:
        lines += [f"- {server}: {note}" for note in report.notes.get(server, ["not run"])]
    return "\n".join(lines) + "\n"


def results_table(report: Report) -> str:
    """The main table: throughput, latency, CPU and errors per operation and server."""
    header = [
        "operation",
        "Commonpod req/s",
        "CSS req/s",
        "ratio",
        "Commonpod p50/p99 ms",
        "CSS p50/p99 ms",
        "Commonpod CPU ms/req",
        "CSS CPU ms/req",
        "Commonpod errors",
        "CSS errors",
    ]
    rows = []
    for label in report.labels:
        cells = [report.results.get((label, server)) for server in SERVERS]
        rates = [_rate_cell(m) for m in cells]
        latency = [_latency_cell(m) for m in cells]
        cpu = [_cpu_cell(m) for m in cells]
        errors = [_errors_cell(m) for m in cells]
        ratio = _ratio(*(m.load.rate if m else None for m in cells))
        if label in report.grant_rows:  # the CSS has no grants: compare with its owner's GET
            css = report.results.get((report.grant_rows[label], "CSS"))
            commonpod = cells[0].load.rate if cells[0] else None
            ratio = _ratio(commonpod, css.load.rate if css else None) + " ‡"
            rates[1] = latency[1] = cpu[1] = errors[1] = NO_GRANTS
        rows.append([label, *rates, ratio, *latency, *cpu, *errors])
    rss = [report.peak_rss_mib.get(server) for server in SERVERS]
    rss_cells = [f"{v:,.0f}" if v is not None else "not run" for v in rss]
    rows.append(["peak RSS (MiB)", *rss_cells, _ratio(*rss), "", "", "", "", "", ""])
    return _markdown_table(header, rows)


def summary_line(measurement: Measurement) -> str:
    """One row on one server in a line, for progress output."""
    load, others = measurement.load, _share(measurement.others_cpu_share)
    return (
        f"{_rate_cell(measurement)} req/s, p50/p99 {_latency_cell(measurement)} ms, "
        f"CPU {_cpu_cell(measurement)} ms/req, errors {_errors_cell(measurement)}, "
        f"{load.requests:,} requests, others' CPU {others}"
    )


def statuses_table(report: Report) -> str:
    """Per operation and server: requests completed with the count of each status, and how
    busy the rest of the machine was meanwhile."""
    header = ["operation"]
    for server in SERVERS:
        header += [f"{server} requests (statuses)", f"{server}: others' CPU"]
    rows = []
    for label in report.labels:
        row = [label]
        for server in SERVERS:
            measurement = report.results.get((label, server))
            if measurement is None and server == "CSS" and label in report.grant_rows:
                row += [NO_GRANTS, ""]
            elif measurement is None:
                row += ["not run", ""]
            else:
                row += [_statuses_cell(measurement.load), _share(measurement.others_cpu_share)]
        rows.append(row)
    return _markdown_table(header, rows)


def _grant_footnote(report: Report) -> list[str]:
    """The footnote on the rows that run through an access grant (Commonpod only)."""
    if not report.grant_rows:
        return []
    rows = ", ".join(f"{label} ÷ the CSS's {base}" for label, base in report.grant_rows.items())
    return _wrap(
        f"‡ The CSS has no access grants, so this row runs on Commonpod alone; its ratio is "
        f"{rows} (the same GET by the pod's owner)."
    )


def _grant_cost(report: Report) -> list[str]:
    """The section "Cost of grant checks and the access log": each grant row against the same
    request by the pod's owner, measured on Commonpod in the same run."""
    if not report.grant_rows:
        return []
    lines = ["## Cost of grant checks and the access log", ""]
    for label, base in report.grant_rows.items():
        via, own = (report.results.get((row, "Commonpod")) for row in (label, base))
        if via is None or own is None or not own.load.rate:
            lines += [f"{label}: not measured in this run (see the notes below).", ""]
            continue
        share = via.load.rate / own.load.rate
        cpu = [m.cpu_ms_per_request for m in (via, own)]
        cpu_text = (
            f"; server CPU {_number(cpu[0])} against {_number(cpu[1])} ms/req"
            if cpu[0] is not None and cpu[1] is not None
            else ""
        )
        lines += _wrap(
            f"On Commonpod, {label} reached {_number(via.load.rate)} req/s: {share:.0%} of the "
            f"{_number(own.load.rate)} req/s of {base}, the same GET of the same document by "
            f"the pod's owner in the same run ({abs(1 - share):.0%} "
            f"{'fewer' if share <= 1 else 'more'} requests per second; p50/p99 "
            f"{_latency_cell(via)} against {_latency_cell(own)} ms{cpu_text}). The requests "
            "differ only in who sends them: each of the second account's passes through the "
            "grant check (WAC ∪ the grants the owner gave its WebID) and leaves a record in the "
            "owner's access log; the owner's own requests do neither. Two rows of the same run "
            "also differ by run-to-run noise: a few per cent either way is within it (more if "
            "the others' CPU column below is high)."
        )
        lines.append("")
    lines += _wrap(
        "Every request by anyone other than the pod's owner is recorded, anonymous reads "
        "counted: the GET Turtle row (anonymous reads of the public pod) adds each request to "
        "the owner's count of that document's reads that day, written every 30 s, so the cost "
        "of counting is inside that row's figure too."
    )
    lines.append("")
    return lines


def _wrap(text: str) -> list[str]:
    """A paragraph as Markdown lines of at most 100 characters."""
    return textwrap.wrap(text, 100, break_long_words=False, break_on_hyphens=False)


def machine_facts(
    css_version: str | None, commonpod_command: list[str] | None
) -> list[tuple[str, str]]:
    """The facts about this machine and the software that the figures depend on."""
    facts = [
        (
            "CPU",
            f"{_cpu_model()}, {os.cpu_count()} logical CPUs (nproc {len(os.sched_getaffinity(0))})",
        ),
        ("memory", _mem_total()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python (bench/run.py)", platform.python_version()),
    ]
    if commonpod_command:
        facts.append(("Commonpod", _commonpod_facts(commonpod_command)))
    if css_version:
        facts.append(("Node.js", _first_line(["node", "--version"])))
        facts.append(("CSS", f"@solid/community-server {css_version}"))
    facts.append(("wrk", _first_line(["wrk", "-v"]).split(" [")[0]))
    return facts


def _markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, numbers right-aligned."""
    align = ["---"] + ["--:"] * (len(header) - 1)
    lines = [header, align, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def _number(value: float) -> str:
    """A figure with about three significant digits."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _share(fraction: float) -> str:
    """A share of one CPU as a percentage; tiny negative readings (clock ticks) read as 0%."""
    return f"{max(fraction, 0.0):.0%}"


def _rate_cell(measurement: Measurement | None) -> str:
    """Requests per second, marked † when few requests completed."""
    if measurement is None:
        return "not run"
    mark = " †" if measurement.load.requests < FEW_REQUESTS else ""
    return _number(measurement.load.rate) + mark


def _latency_cell(measurement: Measurement | None) -> str:
    """p50 / p99 latency in milliseconds."""
    if measurement is None:
        return "not run"
    return f"{_number(measurement.load.p50_ms)} / {_number(measurement.load.p99_ms)}"


def _cpu_cell(measurement: Measurement | None) -> str:
    """Server CPU milliseconds per request."""
    if measurement is None:
        return "not run"
    per_request = measurement.cpu_ms_per_request
    return "–" if per_request is None else _number(per_request)


def _errors_cell(measurement: Measurement | None) -> str:
    """Non-2xx responses (with their statuses) and socket errors, or 0."""
    if measurement is None:
        return "not run"
    load = measurement.load
    parts = []
    if load.non_2xx:
        bad = ", ".join(f"{s}×{n}" for s, n in sorted(load.statuses.items()) if not 200 <= s < 300)
        parts.append(f"{load.non_2xx:,} ({bad})")
    if load.socket_errors:
        parts.append(f"{load.socket_errors:,} socket")
    return " + ".join(parts) or "0"


def _statuses_cell(load: LoadResult) -> str:
    """'1,234 (200: 1,234)'."""
    statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(load.statuses.items()))
    return f"{load.requests:,} ({statuses})" if statuses else f"{load.requests:,}"


def _ratio(commonpod: float | None, css: float | None) -> str:
    """Commonpod ÷ CSS, or – when either is missing."""
    return f"{_number(commonpod / css)}×" if commonpod and css else "–"


def _cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _mem_total() -> str:
    """Total memory from /proc/meminfo, in GiB."""
    for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
        if line.startswith("MemTotal:"):
            return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    return "unknown"


def _commonpod_facts(command: list[str]) -> str:
    """Where `commonpod` lives, the Python that runs it, and the git commit of this checkout."""
    path = shutil.which(command[0]) or command[0]
    python = "unknown Python"
    try:
        first = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[0]
        if first.startswith("#!"):
            python = _first_line([*first[2:].split(), "--version"])
    except (OSError, IndexError):
        pass
    repo = Path(__file__).resolve().parent.parent
    commit = _first_line(
        ["git", "-C", str(repo), "describe", "--always", "--dirty"], must_succeed=True
    )
    return f"`{path}` on {python}, git {commit or 'checkout with no commit yet'}"


def _first_line(argv: list[str], must_succeed: bool = False) -> str:
    """The first line a command prints (stdout, else stderr); '' if it cannot run (or fails)."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    if must_succeed and done.returncode != 0:
        return ""
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else ""
