"""Benchmark of the reputation and rewards apps (issue #13 §5): the 1,000-member community
of bench/shared_view.py (its servers, accounts and seeding), every score computed and 1,000
signed reputation statements appended, then the badges due issued and appended, end to end.

    python3 bench/reputation.py                  # a few minutes, most of it set-up
    python3 bench/reputation.py --keep DIR       # set-up kept in DIR: run again to re-measure

Set-up, as bench/shared_view.py: two fresh servers, the accounts made in-process, every member
PUTs their contributions (10 by default, one document) and a read grant on `contributions/`
for the community; here each member also thanks the next member's first contribution (a read
grant on `appreciations/`) and grants the community append on `reputation/` and `rewards/`
(grant documents naming their class, as the consent flow writes them). The members list is
written to the apps' folders in the community's pod, and version 1 of the rules adds a badge
every member has earned. With ``--keep`` the servers' data is copied once set up, and every
run starts from that copy: each run appends 2,000 documents, which would otherwise make the
next one slower.

Measured, in-process with the apps' own code: one full run of the reputation service
(`apps.reputation.service.Reputation.run`) — rules read, every member's inputs read
(`/.api/grants/mine`, then a `/.api/collect` per class granted: contributions and
appreciations here), every score computed (pagerank), 1,000 statements signed and appended
(each checked by the member's server before it is stored: its shape and its proof) — then
the rewards app's issuing (`apps.rewards.issue.run`): the members' grants and contributions
read, 1,000 badges entered in the ledger, signed and appended. Apart, on the same inputs, the
scoring alone and the signing alone (the signing cost per statement). It prints the figures
and the CPU each process used; docs/benchmarks.md is left to whoever records them.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from fixtures import grant_document  # noqa: E402
from shared_view import init_server, provision, seed, serve  # noqa: E402
from shared_view import write_members as write_view_members  # noqa: E402

from apps.reputation import statements  # noqa: E402
from apps.reputation.config import Config  # noqa: E402
from apps.reputation.method import compute  # noqa: E402
from apps.reputation.service import FOLDER, running  # noqa: E402
from apps.rewards import issue  # noqa: E402
from apps.rewards.service import Setup, signed_in  # noqa: E402
from apps.rules.document import rules_graph  # noqa: E402
from apps.rules.model import Badge, default_rules  # noqa: E402
from apps.rules.store import RulesStore  # noqa: E402
from apps.sdk import Appreciation, PodClient, Retry, RewardStatement, client_credentials  # noqa: E402
from apps.shared_view.cache import KINDS  # noqa: E402
from apps.shared_view.config import Credential  # noqa: E402
from apps.shared_view.model import Member, members_graph  # noqa: E402
from vocab.namespaces import SOLID, VF, iri_of  # noqa: E402
from vocab.terms import CP  # noqa: E402


def grant_for(owner: str, grantee: str, target: str, cls: str, action: str) -> str:
    """bench/fixtures.py's grant, for ``action`` on ``target`` and naming its class."""
    text = grant_document(owner, grantee, target)
    return text.replace("odrl:action odrl:read ;", f"odrl:action odrl:{action} ;\n"
                        f"        <{iri_of(SOLID.forClass)}> <{cls}> ;")


async def extras(members: list[dict[str, str]], community: str) -> None:
    """Each member thanks the next one's first contribution and grants what the app needs."""
    writes = asyncio.Semaphore(8)
    retry = Retry(attempts=20, backoff=0.5, methods=frozenset({"GET", "PUT"}))

    async def one(i: int, m: dict[str, str]) -> None:
        nxt = members[(i + 1) % len(members)]
        thanks = Appreciation(appreciation_of=nxt["pod"] + "contributions/d0#c0",
                              id=m["pod"] + "appreciations/t0#it")
        session = await client_credentials(m["issuer"], m["client_id"], m["client_secret"])
        async with PodClient(session, retry=retry) as pod, writes:
            await pod.put(m["pod"] + "appreciations/t0", thanks)
            await pod.put(m["pod"] + "grants/bench-thanks", grant_for(
                m["webid"], community, m["pod"] + "appreciations/", iri_of(VF.Appreciation),
                "read"), content_type="text/turtle")
            await pod.put(m["pod"] + "grants/bench-append", grant_for(
                m["webid"], community, m["pod"] + "reputation/", iri_of(CP.ReputationStatement),
                "append"), content_type="text/turtle")
            await pod.put(m["pod"] + "grants/bench-badges", grant_for(
                m["webid"], community, m["pod"] + "rewards/", RewardStatement.cls, "append"),
                content_type="text/turtle")

    for chunk in range(0, len(members), 50):
        await asyncio.gather(*(one(chunk + i, m)
                               for i, m in enumerate(members[chunk:chunk + 50])))


async def write_rules(community: dict[str, str]) -> None:
    """Version 1 of the rules: the defaults plus a badge every member earns from the seeded
    contributions (one of the first kind within ten years), so the run issues 1,000 badges."""
    session = await client_credentials(community["issuer"], community["client_id"],
                                       community["client_secret"])
    async with PodClient(session) as pod:
        url = RulesStore(pod, community["pod"]).version_url(1)
        rules = default_rules(url)
        rules = replace(rules, badges=(*rules.badges, Badge(
            "contributor", "Contributor", "A contribution of the first kind in ten years.",
            KINDS[0], 1, 3650)))
        await pod.put(url, rules_graph(rules).to_turtle(), content_type="text/turtle",
                      if_none_match="*")


async def write_members(community: dict[str, str], members: list[dict[str, str]]) -> None:
    session = await client_credentials(community["issuer"], community["client_id"],
                                       community["client_secret"])
    doc = community["pod"] + FOLDER + "members.ttl"
    graph = members_graph(doc, {m["webid"]: Member(m["webid"], m["pod"], m["issuer"])
                                for m in members})
    async with PodClient(session) as pod:
        await pod.put(doc, graph.to_turtle(), content_type="text/turtle")


async def measure(community: dict[str, str], workdir: Path, args: argparse.Namespace
                  ) -> dict[str, float]:
    config = Config(community=community["webid"],
                    credential=Credential(community["client_id"], community["client_secret"],
                                          community["issuer"]),
                    key_file=workdir / "statements.key", public_url="http://127.0.0.1:1/",
                    name="Bench commons", concurrency=args.concurrency,
                    per_server=args.per_server, timeout=120, allow_private_fetch=True)
    async with running(config) as service:
        started = time.monotonic()
        profile = cProfile.Profile() if args.profile else None
        if profile is not None:
            profile.enable()
        run = await service.run()
        reputation_s = time.monotonic() - started
        badges_started = time.monotonic()
        async with signed_in(Setup(config.community, config.credential,
                                   config.key_file)) as (issuer, pod):
            rules_now = await RulesStore(issuer.client, issuer.pod).in_force()
            badges = await issue.run(issuer, rules_now, await pod.members(),
                                     concurrency=args.concurrency)
        badges_s = time.monotonic() - badges_started
        whole = time.monotonic() - started
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        inputs, rules = run.gathered.inputs, run.result.rules
        started = time.monotonic()
        result = compute(rules, inputs, config.community)
        scoring = time.monotonic() - started
        started = time.monotonic()
        for score in result.scores.values():
            statements.signed(statements.statement(
                result, score, community=config.community, community_name=config.name,
                why_url=service.why_url(score.member), previous=None, now=run.at),
                service.seed, service.verification_method)
        signing = time.monotonic() - started
        for who, why in list(run.not_issued.items())[:5]:
            print(f"  not issued to {who}: {why}", flush=True)
        print("  phases (s):", {k: round(v, 2) for k, v in run.seconds.items()},
              f"reputation {reputation_s:.1f}, badges {badges_s:.1f} "
              f"({len(badges.delivered)} delivered, {len(badges.pending)} pending, "
              f"{len(badges.skipped)} skipped)", flush=True)
        return {"members": len(inputs.members), "contributions": len(inputs.works),
                "appreciations": len(inputs.thanks), "issued": len(run.issued),
                "not_issued": len(run.not_issued), "run_s": whole, "scoring_s": scoring,
                "reputation_s": reputation_s, "badges_s": badges_s,
                "badges": len(badges.delivered),
                "signing_s": signing,
                "signing_ms_per_statement": 1000 * signing / max(1, len(result.scores))}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--members", type=int, default=1000)
    p.add_argument("--contributions", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--per-server", type=int, default=6)
    p.add_argument("--keep", type=Path, default=None,
                   help="set up in this folder and keep it; a later run with the same folder "
                        "(and the same --members, --contributions) measures again from the "
                        "same state without the set-up (about four minutes)")
    p.add_argument("--profile", type=Path, default=None,
                   help="write a cProfile of the measured run (this process) to this file")
    args = p.parse_args()
    os.environ.pop("COMMONPOD_DATA_DIR", None)
    with ExitStack() as stack:
        if args.keep:
            workdir = args.keep.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="reputation-bench-")))
        state = workdir / "state.json"
        began = time.monotonic()
        data_dirs = (workdir / "a-data", workdir / "b-data")
        if state.exists():  # set up by an earlier run with the same --keep: as it was then
            kept = json.loads(state.read_text())
            ports, community, members = kept["ports"], kept["community"], kept["members"]
            for data in data_dirs:
                shutil.rmtree(data)
                shutil.copytree(data.with_name(data.name + ".set-up"), data)
        else:
            ports = [init_server(workdir, "a")[1], init_server(workdir, "b")[1]]
            names = [f"m{i:04d}" for i in range(args.members)]
            print("making accounts ...", flush=True)
            on_a = provision(data_dirs[0], ["community", *names[: len(names) // 2]])
            community, members = on_a[0], on_a[1:] + provision(data_dirs[1],
                                                               names[len(names) // 2:])
            with ExitStack() as seeding:
                for data, port in zip(data_dirs, ports, strict=True):
                    seeding.callback(serve(data, port, workdir).stop)
                print("seeding contributions, thanks and grants ...", flush=True)
                asyncio.run(seed(members, community["webid"], args.contributions,
                                 args.contributions))
                asyncio.run(extras(members, community["webid"]))
                asyncio.run(write_members(community, members))
                asyncio.run(write_view_members(community, members))  # the rewards app's
                asyncio.run(write_rules(community))
            for data in data_dirs:  # a run appends to the pods: each starts from this copy
                shutil.copytree(data, data.with_name(data.name + ".set-up"))
            state.write_text(json.dumps({"ports": ports, "community": community,
                                         "members": members}))
            print(f"set-up took {time.monotonic() - began:.0f} s", flush=True)
        servers = []
        for data, port in zip(data_dirs, ports, strict=True):
            process = serve(data, port, workdir)
            stack.callback(process.stop)
            servers.append(process)
        print("measuring one run ...", flush=True)
        cpu_before = [time.process_time(), *(s.cpu_seconds() for s in servers)]
        found = asyncio.run(measure(community, workdir, args))
        cpu = [time.process_time() - cpu_before[0],
               *(s.cpu_seconds() - c for s, c in zip(servers, cpu_before[1:], strict=True))]
        print(f"  CPU (s): this process {cpu[0]:.1f} (the run, then the scoring and signing "
              f"alone), the servers {cpu[1]:.1f} + {cpu[2]:.1f}", flush=True)
    print(f"reputation, {found['members']:.0f} members over 2 servers "
          f"({found['contributions']:.0f} contributions, {found['appreciations']:.0f} "
          f"appreciations): one run end to end {found['run_s']:.1f} s "
          f"(reputation {found['reputation_s']:.1f} s, badges {found['badges_s']:.1f} s), "
          f"{found['issued']:.0f} statements appended ({found['not_issued']:.0f} not), "
          f"{found['badges']:.0f} badges; "
          f"scoring alone {found['scoring_s']:.2f} s; signing alone {found['signing_s']:.1f} s "
          f"= {found['signing_ms_per_statement']:.1f} ms per statement")
    return 0


if __name__ == "__main__":
    sys.exit(main())
