"""One refresh: every member's contributions read through the SDK (the app acting as itself,
many pods at once with bounded parallelism), reduced to facts and cached. A member whose pod
answers 403 no longer grants access: they are removed and everything cached of them deleted.
A pod that cannot be reached is reported, and what was cached of it stays until it answers
again, so the rest of the dashboard refreshes regardless."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apps.sdk import Community, Contribution, Forbidden, PodClient
from apps.shared_view.cache import Fact, MemberCache, facts_of
from apps.shared_view.model import Member
from apps.shared_view.pod_store import CommunityPod

OK, UNREACHABLE, REMOVED = "ok", "unreachable", "removed"


@dataclass(frozen=True)
class PodStatus:
    """How reading one member's pod went."""

    pod: str
    state: str  # OK, UNREACHABLE or REMOVED
    detail: str = ""
    seconds: float = 0.0


@dataclass
class Report:
    """One refresh: when, how long, and each pod's status."""

    at: datetime
    seconds: float = 0.0
    pods: list[PodStatus] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for p in self.pods if p.state == state)


def _why(error: BaseException | None) -> str:
    if isinstance(error, TimeoutError):
        return "did not answer in time"
    return f"{type(error).__name__}: {error}"[:300]


async def refresh(pod: CommunityPod, app: PodClient, cache: MemberCache, *,
                  projects: frozenset[str], concurrency: int, timeout: float,
                  only: frozenset[str] | None = None) -> Report:
    """Read every member (or the members whose WebIDs are ``only``); update ``cache``;
    remove members who withdrew. The report covers the pods read."""
    started = time.monotonic()
    report = Report(datetime.now(UTC))
    members = await pod.members()
    cache.keep_only(members)  # whoever left since the last refresh is forgotten
    by_pod: dict[str, Member] = {m.pod: m for m in members.values()
                                 if only is None or m.webid in only}

    async def read(client: PodClient, where: str) -> list[Fact]:
        collected = await client.collect(where, Contribution)
        webid = by_pod[where].webid
        theirs = [c for c in collected.records
                  if isinstance(c, Contribution) and c.provider == webid]
        return facts_of(theirs, projects)

    withdrawn: set[str] = set()
    async for result in Community(app, concurrency=concurrency, timeout=timeout).each(
            by_pod, read):
        member = by_pod[result.member]
        if result.ok and result.value is not None:
            cache.put(member.webid, result.value)
            report.pods.append(PodStatus(member.pod, OK, seconds=result.seconds))
        elif isinstance(result.error, Forbidden):
            withdrawn.add(member.webid)
            cache.forget(member.webid)
            report.pods.append(PodStatus(member.pod, REMOVED, "access was withdrawn",
                                         result.seconds))
        else:
            report.pods.append(PodStatus(member.pod, UNREACHABLE, _why(result.error),
                                         result.seconds))
    if withdrawn:
        await pod.remove_members(withdrawn)
    report.pods.sort(key=lambda p: p.pod)
    report.seconds = time.monotonic() - started
    return report


def merged(previous: Report | None, new: Report) -> Report:
    """``previous`` with the pods ``new`` read replaced by what ``new`` found: the report of a
    refresh of a few members, shown beside the last full one."""
    if previous is None:
        return new
    read = {p.pod for p in new.pods}
    pods = sorted([p for p in previous.pods if p.pod not in read] + new.pods,
                  key=lambda p: p.pod)
    return Report(previous.at, previous.seconds, pods)
