"""Putting load on a server: wrk with generated Lua scripts, and a small HEAD client.

wrk cannot measure HEAD: its HTTP parser waits for the body that the response's
Content-Length announces, which a HEAD response never sends, so every connection
stalls. HEAD rows therefore run on a stdlib asyncio client that keeps the same
number of keep-alive connections busy.

DPoP rows send a proof made beforehand with every request (wrk's Lua cannot sign): the
proofs go to wrk in one file per thread, each used once.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

HOOKS = Path(__file__).with_name("wrk_hooks.lua")
RESULT_PREFIX = "BENCH_JSON "
VALUE = "{value}"  # placeholder in a Row body that changes with every request


class LoadError(RuntimeError):
    """The load generator failed or printed no result."""


@dataclass(frozen=True)
class Row:
    """One operation put under load: a method, the paths it targets in turn, a body."""

    label: str
    method: str
    paths: tuple[str, ...]
    headers: tuple[tuple[str, str], ...]
    body: str = ""
    slug: bool = False
    value_cycle: int = 0  # > 0: the body holds VALUE, filled with 0 .. value_cycle - 1
    dpop: bool = False  # every request carries an access token and a fresh DPoP proof
    baseline: str = ""  # DPoP rows: the row without credentials whose rate sizes the proofs


@dataclass(frozen=True)
class LoadSettings:
    """How hard and how long to push: wrk's -c, -t and --timeout, and the run length."""

    connections: int
    threads: int
    timeout_s: int
    duration_s: int


@dataclass(frozen=True)
class ProofTable:
    """What one run of a DPoP row sends: the Authorization header and, request after request,
    the path it goes to and its own DPoP proof."""

    authorization: str
    requests: list[tuple[str, str]]  # (path, DPoP proof)
    made_at: float  # time.monotonic() when the first proof was made

    def age(self) -> float:
        """Seconds since the first proof was made."""
        return time.monotonic() - self.made_at


@dataclass(frozen=True)
class LoadResult:
    """What one run of load measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    socket_errors: int
    abandoned: int = 0  # sent but unanswered when the run ended (wrk drops them)
    ran_out: bool = False  # a DPoP run used up its proofs before the end: it does not count
    first_error: str = ""  # the status and start of the body of the first non-2xx response

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self) -> int:
        """Responses whose status is not 2xx."""
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300)


def run_load(
    row: Row,
    origin: str,
    settings: LoadSettings,
    seconds: int,
    tag: str,
    workdir: Path,
    proofs: ProofTable | None = None,
) -> LoadResult:
    """Put `row` on the server at `origin` for `seconds`; `tag` names Slugs apart. A DPoP row
    needs `proofs`, made for this run alone."""
    if row.method == "HEAD":
        return asyncio.run(_head_load(row, origin, settings, seconds))
    if row.dpop and proofs is None:
        raise LoadError(f"{row.label}: a DPoP row needs a table of proofs")
    return _wrk_load(row, origin, settings, seconds, tag, workdir, proofs)


# --- wrk --------------------------------------------------------------------------------


def _wrk_load(
    row: Row,
    origin: str,
    settings: LoadSettings,
    seconds: int,
    tag: str,
    workdir: Path,
    proofs: ProofTable | None,
) -> LoadResult:
    """Run wrk once with a script generated for `row` and read its result line."""
    script = workdir / f"{tag}.lua"
    proof_files = _write_proofs(proofs, settings.threads, workdir / tag) if proofs else []
    script.write_text(lua_script(row, settings.threads, tag, proofs, proof_files), "utf-8")
    argv = [
        "wrk",
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{seconds}s",
        f"--timeout={settings.timeout_s}s",
        "-s",
        str(script),
        origin + row.paths[0],
    ]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    finally:
        for path in proof_files:
            path.unlink(missing_ok=True)
    return _parse_wrk(done.stdout, done.stderr)


def _write_proofs(proofs: ProofTable, threads: int, stem: Path) -> list[Path]:
    """One file per wrk thread, `<stem>-<thread>.proofs`: thread t gets requests t, t +
    threads, t + 2 × threads … of the table, one "<path> <proof>" line each."""
    paths = []
    for thread in range(threads):
        path = stem.with_name(f"{stem.name}-{thread}.proofs")
        lines = (f"{target} {proof}\n" for target, proof in proofs.requests[thread::threads])
        path.write_text("".join(lines), encoding="ascii")
        paths.append(path)
    return paths


def _parse_wrk(stdout: str, stderr: str) -> LoadResult:
    """Read the BENCH_JSON line that wrk_hooks.lua prints when wrk is done."""
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line.removeprefix(RESULT_PREFIX))
            statuses: Counter[int] = Counter()
            for status, count in data["statuses"]:
                statuses[status] += count
            return LoadResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1e3,
                p99_ms=data["p99_us"] / 1e3,
                statuses=dict(statuses),
                socket_errors=data["socket_errors"],
                abandoned=max(0, data["sent"] - data["requests"]),
                ran_out=data["ran_out"] > 0,
                first_error=data["first_error"],
            )
    raise LoadError(f"wrk printed no result.\nstdout:\n{stdout}\nstderr:\n{stderr}")


def lua_script(
    row: Row,
    threads: int,
    tag: str,
    proofs: ProofTable | None = None,
    proof_files: list[Path] | None = None,
) -> str:
    """The wrk script for `row`: a generated `config` table, then the shared hooks. With
    `proofs`, its Authorization header and the per-thread files holding its proofs."""
    headers = list(row.headers)
    if proofs:
        headers.append(("Authorization", proofs.authorization))
    fields = {
        "threads": str(threads),
        "method": lua_string(row.method),
        "paths": "{" + ", ".join(lua_string(p) for p in row.paths) + "}",
        "headers": "{"
        + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers)
        + "}",
    }
    if proof_files:
        fields["proof_files"] = "{" + ", ".join(lua_string(str(p)) for p in proof_files) + "}"
    if row.body:
        fields["body"] = lua_string(row.body)
    if row.slug:
        fields["slug_prefix"] = lua_string(f"{tag}-")
    if row.value_cycle:
        before, after = row.body.split(VALUE)
        fields["body_parts"] = "{" + lua_string(before) + ", " + lua_string(after) + "}"
        fields["value_cycle"] = str(row.value_cycle)
    config = "config = {\n" + "".join(f"  {k} = {v},\n" for k, v in fields.items()) + "}\n\n"
    return config + HOOKS.read_text(encoding="utf-8")


def lua_string(text: str) -> str:
    """`text` as a Lua string literal: printable ASCII kept, every other byte escaped."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


# --- HEAD ---------------------------------------------------------------------------------


@dataclass
class _Tally:
    """What the HEAD connections saw, together."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0


async def _head_load(row: Row, origin: str, settings: LoadSettings, seconds: int) -> LoadResult:
    """Keep `settings.connections` keep-alive connections sending HEAD for `seconds`."""
    url = urlsplit(origin)
    headers = "".join(f"{k}: {v}\r\n" for k, v in row.headers)
    request = f"HEAD {row.paths[0]} HTTP/1.1\r\nHost: {url.netloc}\r\n{headers}\r\n".encode()
    address = (url.hostname or "127.0.0.1", url.port or 80)
    tally = _Tally()
    start = time.perf_counter()
    workers = [
        _head_worker(address, request, start + seconds, tally) for _ in range(settings.connections)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*workers), seconds + settings.timeout_s)
    except TimeoutError as error:
        raise LoadError(f"HEAD {row.paths[0]}: no answer within {settings.timeout_s} s") from error
    latencies = sorted(tally.latencies)
    return LoadResult(
        requests=len(latencies),
        seconds=time.perf_counter() - start,
        p50_ms=_percentile(latencies, 50) * 1e3,
        p99_ms=_percentile(latencies, 99) * 1e3,
        statuses=dict(tally.statuses),
        socket_errors=tally.errors,
    )


async def _head_worker(
    address: tuple[str, int], request: bytes, deadline: float, tally: _Tally
) -> None:
    """Send HEAD requests one after another on one connection until `deadline`."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                tally.errors += 1
                head = b""
            if head:
                tally.latencies.append(time.perf_counter() - sent)
                tally.statuses[int(head[9:12])] += 1
            if not head or b"connection: close" in head.lower():
                writer.close()
                reader, writer = await asyncio.open_connection(*address)
    finally:
        writer.close()


def _percentile(sorted_values: list[float], percent: float) -> float:
    """The nearest-rank percentile of already sorted values (0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, round(percent / 100 * len(sorted_values)))
    return sorted_values[rank - 1]
