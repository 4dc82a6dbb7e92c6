"""Benchmark of the shared view (issue #12 §4): one full refresh of a community of 1,000
members with 50 contributions each, split over two Commonpod servers on this machine, and
the same refresh done resource by resource against the Community Solid Server 7.2.0 for 10
members, extrapolated per resource.

    python3 bench/shared_view.py --css-dir /tmp/css   # about ten minutes, most of it set-up
    python3 bench/shared_view.py --keep DIR …         # set-up kept in DIR: run again to re-measure

Commonpod: two fresh servers (`python -m pod init` / `serve`); the accounts and their client
credentials are made in-process with the server's own account code before the servers start
(a CLI call per account would take most of an hour); then every member, with their own
credential through the SDK, PUTs 50 contributions into their pod and an access grant
(`grants/bench-grant`, read on `contributions/` for the community's WebID, as the grant row
of bench/run.py) — no member uses the app's consent pages, which tests/test_shared_view.py
covers. The members list is written to the community's pod, and the app is started as its
own process (`python -m apps.shared_view`). Measured: the wall time of `POST /refresh` (every
member's contributions read with one `/.api/collect` each, reduced and aggregated) and the
app's peak RSS (VmHWM) afterwards.

CSS: the publicly writable root (`@css:config/file-root.json`), 10 member folders with the
same 50 contributions; the refresh lists each member's container and GETs every
contribution (51 requests per member) through the SDK with the same parallelism, parses
them as records and aggregates them with the app's own code. The CSS has no access grants and
no bulk read; its reads here are anonymous.

The section it writes in docs/benchmarks.md sits between the markers below; bench/run.py
keeps it when it rewrites the file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import pyoxigraph as ox  # noqa: E402
from fixtures import grant_document  # noqa: E402
from servers import ServerProcess, _process_tree, _vm_hwm_kib, free_port, start_css  # noqa: E402

from apps.sdk import (  # noqa: E402
    Community,
    Contribution,
    Graph,
    PodClient,
    Retry,
    client_credentials,
)
from apps.shared_view.aggregate import figures  # noqa: E402
from apps.shared_view.cache import KINDS, Fact, facts_of  # noqa: E402
from apps.shared_view.model import Member, members_graph  # noqa: E402
from vocab.namespaces import LDP, node_of  # noqa: E402

START, END = "<!-- shared-view:start -->", "<!-- shared-view:end -->"
PASSWORD = "a long enough bench password"  # noqa: S105  # bench accounts, thrown away
PROJECTS = ("https://repair.example/#cafe", "https://garden.example/#plot",
            "https://choir.example/#choir")
LDP_CONTAINS = node_of(LDP.contains)


def cli(*args: str, data: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "pod", *args, "--data-dir", str(data)],
                          cwd=ROOT, capture_output=True, text=True, check=True, timeout=300)
    return done.stdout


def init_server(workdir: Path, name: str) -> tuple[Path, int]:
    data, port = workdir / f"{name}-data", free_port()
    cli("init", "--base-url", f"http://127.0.0.1:{port}/", data=data)
    with (data / "settings.toml").open("a") as f:
        f.write("allow_private_fetch = true\n")  # servers read each other on loopback
    return data, port


def provision(data: Path, names: list[str]) -> list[dict[str, str]]:
    """Accounts with pods and client credentials, made with the server's own code."""
    import argparse as ap

    from auth.accounts import Accounts
    from auth.credentials import Credentials
    from auth.passwords import Passwords
    from pod.cli.common import settings_of
    from pod.runtime import open_runtime

    settings = settings_of(ap.Namespace(data_dir=data))

    async def run() -> list[dict[str, str]]:
        rt = await open_runtime(settings)
        try:
            accounts = Accounts(rt.system, rt.pods, rt.resources, Passwords(concurrency=2))
            creds = Credentials(rt.system)
            slots = asyncio.Semaphore(4)

            async def one(name: str) -> dict[str, str]:
                async with slots:
                    account = await accounts.create(name, PASSWORD)
                    cred, secret = await creds.create(name, account.webid, "bench",
                                                      uid=account.uid)
                return {"name": name, "webid": account.webid, "pod": account.pod,
                        "issuer": settings.base_url, "client_id": cred.client_id,
                        "client_secret": secret}

            return list(await asyncio.gather(*(one(n) for n in names)))
        finally:
            await rt.close()

    return asyncio.run(run())


def serve(data: Path, port: int, workdir: Path) -> ServerProcess:
    process = ServerProcess([sys.executable, "-m", "pod", "serve", "--data-dir", str(data),
                             "--port", str(port)], workdir / f"{data.name}.log", cwd=ROOT)
    wait_for(f"http://127.0.0.1:{port}/.well-known/solid", process)
    return process


def wait_for(url: str, process: ServerProcess, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise SystemExit(f"{url}: the process exited\n{process.log_tail()}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer\n{process.log_tail()}")


def contribution(who: str, n: int) -> Contribution:
    return Contribution(
        provider=who, name=f"Contribution {n}", in_scope_of=(PROJECTS[n % len(PROJECTS)],),
        kinds=(KINDS[n % len(KINDS)],),
        when=datetime(2025, 1 + n % 12, 1 + n % 28, 10, tzinfo=UTC))


def document(url: str, who: str, numbers: range) -> Graph:
    """One document holding the contributions ``numbers`` of ``who`` (``#c0`` …)."""
    graph = Graph()
    for n in numbers:
        graph.update(replace(contribution(who, n), id=f"{url}#c{n}").to_graph())
    return graph


async def seed(members: list[dict[str, str]], community_webid: str, per: int,
               packed: int) -> None:
    """Every member, with their own credential: ``per`` contributions, ``packed`` to a
    document, and a grant. At most
    8 writes in flight; a 503 (the server's back-pressure on costly writes) is retried."""
    writes = asyncio.Semaphore(8)
    retry = Retry(attempts=20, backoff=0.5, methods=frozenset({"GET", "PUT"}))

    async def put(pod: PodClient, url: str, body: Graph | str) -> None:
        async with writes:
            if isinstance(body, str):
                await pod.put(url, body, content_type="text/turtle")
            else:
                await pod.put(url, body.to_turtle(url), content_type="text/turtle")

    async def one(m: dict[str, str]) -> None:
        session = await client_credentials(m["issuer"], m["client_id"], m["client_secret"])
        async with PodClient(session, retry=retry) as pod:
            await asyncio.gather(*(put(pod, m["pod"] + f"contributions/d{d}",
                                       document(m["pod"] + f"contributions/d{d}", m["webid"],
                                                range(d * packed, min(per, (d + 1) * packed))))
                                   for d in range(-(-per // packed))))
            await put(pod, m["pod"] + "grants/bench-grant",
                      grant_document(m["webid"], community_webid, m["pod"] + "contributions/"))

    started, done = time.monotonic(), 0
    for chunk in range(0, len(members), 20):
        await asyncio.gather(*(one(m) for m in members[chunk:chunk + 20]))
        done += len(members[chunk:chunk + 20])
        print(f"  seeded {done}/{len(members)} members in {time.monotonic() - started:.0f} s",
              flush=True)


async def write_members(community: dict[str, str], members: list[dict[str, str]]) -> None:
    session = await client_credentials(community["issuer"], community["client_id"],
                                       community["client_secret"])
    doc = community["pod"] + "shared-view/members.ttl"
    graph = members_graph(doc, {m["webid"]: Member(m["webid"], m["pod"], m["issuer"])
                                for m in members})
    async with PodClient(session) as pod:
        await pod.put(doc, graph.to_turtle(), content_type="text/turtle")


def csrf_of(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found
    return found.group(1)


def measure_app(community: dict[str, str], workdir: Path, args: argparse.Namespace,
                servers: list[ServerProcess]) -> dict[str, object]:
    creds = workdir / "community.json"
    creds.write_text(json.dumps(community))
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    argv = [sys.executable, "-m", "apps.shared_view", "--community", community["webid"],
            "--credentials", str(creds), "--public-url", base, "--port", str(port),
            "--allow-private-fetch", "--refresh-every", "86400", "--min-refresh-gap", "0",
            "--concurrency", str(args.concurrency), "--per-server", str(args.per_server),
            "--timeout", "120", "--name", "Bench community"]
    for n, project in enumerate(PROJECTS):
        argv += ["--project", f"{project}=Project {n}"]
    app = ServerProcess(argv, workdir / "app.log", cwd=ROOT)
    try:
        wait_for(base, app, timeout=600)
        with httpx.Client(timeout=600) as b:
            deadline = time.monotonic() + 600
            while "Last refreshed" not in (page := b.get(base)).text:  # the refresh at start
                assert time.monotonic() < deadline, app.log_tail()
                time.sleep(0.5)
            first = re.search(r"in ([\d.]+) s;", page.text)
            cpu_before = [p.cpu_seconds() for p in (app, *servers)]
            started = time.monotonic()
            done = b.post(base + "refresh", data={"csrf": csrf_of(page.text)})
            took = time.monotonic() - started
            cpu = [p.cpu_seconds() - c for p, c in zip((app, *servers), cpu_before, strict=True)]
            assert done.status_code == 303, done.text
            page = b.get(base)
        total = re.search(r'<dd id="total">([^<]*)</dd>', page.text)
        read = sum(int(n) for n in re.findall(
            r'<tr data-server="[^"]+"><td>[^<]*</td><td class="n">(\d+)</td>', page.text))
        rss = sum(_vm_hwm_kib(pid) for pid in _process_tree(app.pid)) / 1024
        return {"seconds": took, "first_seconds": float(first.group(1)) if first else None,
                "total": total.group(1) if total else None, "pods_read": read,
                "peak_rss_mib": rss, "app_cpu": cpu[0], "servers_cpu": sum(cpu[1:])}
    finally:
        app.stop()


async def css_refresh(base: str, members: int, per: int, args: argparse.Namespace
                      ) -> dict[str, float]:
    pods = [f"{base}m{i}/" for i in range(members)]
    async with PodClient(retry=Retry(attempts=3), per_server=args.per_server) as client:
        slots = asyncio.Semaphore(8)

        async def put(url: str, body: bytes) -> None:
            async with slots:
                await client.put(url, body, content_type="text/turtle")

        await asyncio.gather(*(
            put(p + f"contributions/d{d}", document(
                p + f"contributions/d{d}", p + "profile/card#me",
                range(d * args.per_document, min(per, (d + 1) * args.per_document))
            ).to_turtle(p + f"contributions/d{d}"))
            for p in pods for d in range(-(-per // args.per_document))))

        async def read(c: PodClient, pod: str) -> list[Fact]:
            listing = await c.graph(pod + "contributions/")
            docs = [t.object.value for t in listing.triples(None, LDP_CONTAINS)
                    if isinstance(t.object, ox.NamedNode)]
            graphs = await asyncio.gather(*(c.graph(d) for d in docs))
            return facts_of([r for g in graphs for r in Contribution.all_in(g)],
                            frozenset(PROJECTS))

        started = time.monotonic()
        results = await Community(client, concurrency=args.concurrency).run(pods, read)
        figures([(r.member, r.value) for r in results if r.value is not None], k=5,
                projects={p: p for p in PROJECTS})
        took = time.monotonic() - started
    counted = sum(len(r.value or []) for r in results)
    requests = members * (1 + -(-per // args.per_document))
    return {"seconds": took, "requests": requests, "per_request": took / requests,
            "counted": counted, "errors": sum(1 for r in results if not r.ok)}


def section(args: argparse.Namespace, app: dict[str, object], css: dict[str, float] | None,
            setup: float) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    members, per = args.members, args.contributions
    lines = [START, "", "## Shared view: one full refresh (issue #12 §4)", "",
             f"Measured on {when} with `python3 bench/shared_view.py "
             f"--members {members} --contributions {per} --per-document "
             f"{args.per_document} --css-dir {args.css_dir}` "
             f"(bench/shared_view.py says what it does; set-up took {setup:.0f} s).", "",
             "| what | members × contributions | servers | refresh | per member "
             "| peak RSS of the app |",
             "| --- | --- | --- | --- | --- | --- |",
             f"| Commonpod: `POST /refresh` on the app (one `/.api/collect` per member, "
             f"concurrency {args.concurrency}, {args.per_server} per server) | "
             f"{members} × {per} | 2 Commonpod | {app['seconds']:.1f} s "
             f"(the refresh at start: {app['first_seconds']} s) | "
             f"{1000 * float(app['seconds']) / members:.1f} ms | "  # type: ignore[arg-type]
             f"{app['peak_rss_mib']:.0f} MiB |"]
    if css is not None:
        extrapolated = css["per_request"] * members * (1 + -(-per // args.per_document))
        lines.append(
            f"| CSS 7.2.0, resource by resource (list + GET each, anonymous, same "
            f"parallelism) | {args.css_members} × {per} | 1 CSS | {css['seconds']:.1f} s for "
            f"{int(css['requests'])} requests; extrapolated to {members} members: "
            f"{extrapolated:.0f} s | {1000 * css['seconds'] / args.css_members:.0f} ms | – |")
    lines += ["", f"CPU during the measured refresh: the app {app['app_cpu']:.1f} s, the two "
              f"Commonpod servers {app['servers_cpu']:.1f} s (2 logical CPUs shared by all "
              "three).", "", f"The dashboard counted {app['total']} contributions from "
              f"{app['pods_read']} pods read; {args.per_document} contribution(s) per "
              f"document. The CSS read {int(css['counted']) if css else 0} contributions. "
              "Target: under 15 s.", "", END, ""]
    return "\n".join(lines)


def write(output: Path, text: str) -> None:
    old = output.read_text() if output.exists() else ""
    if START in old and END in old:
        head, rest = old.split(START, 1)
        new = head + text.rstrip("\n") + rest.split(END, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    output.write_text(new)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, default=1000)
    p.add_argument("--contributions", type=int, default=50)
    p.add_argument("--per-document", type=int, default=1,
                   help="contributions per document (1: one document each)")
    p.add_argument("--css-members", type=int, default=10)
    p.add_argument("--css-dir", type=Path, default=Path("/tmp/css"))
    p.add_argument("--no-css", action="store_true")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--per-server", type=int, default=16)
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    p.add_argument("--keep", type=Path, default=None,
                   help="set up the servers in this folder and keep them; a later run with "
                        "the same folder (and the same --members, --contributions, "
                        "--per-document) skips the set-up and measures again")
    args = p.parse_args()
    os.environ.pop("COMMONPOD_DATA_DIR", None)
    with ExitStack() as stack:
        if args.keep:
            workdir = args.keep.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="shared-view-bench-")))
        state = workdir / "state.json"
        began = time.monotonic()
        if state.exists():  # set up by an earlier run with the same --keep
            kept = json.loads(state.read_text())
            a_data, a_port = workdir / "a-data", kept["ports"][0]
            b_data, b_port = workdir / "b-data", kept["ports"][1]
            community, members = kept["community"], kept["members"]
        else:
            (a_data, a_port), (b_data, b_port) = (init_server(workdir, "a"),
                                                  init_server(workdir, "b"))
            names = [f"m{i:04d}" for i in range(args.members)]
            print("making accounts ...", flush=True)
            on_a = provision(a_data, ["community", *names[: len(names) // 2]])
            community, members = on_a[0], on_a[1:] + provision(b_data, names[len(names) // 2:])
        running = []
        for data, port in ((a_data, a_port), (b_data, b_port)):
            process = serve(data, port, workdir)
            stack.callback(process.stop)
            running.append(process)
        if not state.exists():
            print("seeding contributions and grants ...", flush=True)
            asyncio.run(seed(members, community["webid"], args.contributions,
                             args.per_document))
            asyncio.run(write_members(community, members))
            state.write_text(json.dumps({"ports": [a_port, b_port], "community": community,
                                         "members": members,
                                         "setup": time.monotonic() - began}))
        setup = float(json.loads(state.read_text())["setup"])
        print("measuring the app's refresh ...", flush=True)
        app = measure_app(community, workdir, args, running)
        print(app, flush=True)
        css = None
        if not args.no_css:
            print("the CSS, resource by resource ...", flush=True)
            shutil.rmtree(workdir / "css-data", ignore_errors=True)  # an earlier --keep run's
            server = start_css(args.css_dir, workdir)
            stack.callback(server.process.stop)
            css = asyncio.run(css_refresh(server.root, args.css_members, args.contributions,
                                          args))
            print(css, flush=True)
        text = section(args, app, css, setup)
    write(args.output, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
