"""The app's one service: signs in as the community, publishes its statement key and Client ID
Document, and runs: reads every member's consented inputs, computes the scores under the rules
in force, and appends each member a signed statement superseding their previous one. A member
who withdrew (403) is removed and counts for nothing; one whose grant allows no append gets no
statement. Runs happen on a schedule and on demand, one at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

import pyoxigraph as ox

from apps.community_kit.schedule import repeating
from apps.community_kit.signin import signed_in
from apps.reputation import statements
from apps.reputation.config import Config, load_key
from apps.reputation.inputs import Gathered, gather
from apps.reputation.method import Result, compute
from apps.rules.store import RulesStore
from apps.sdk import (
    AccessNeed,
    ClientIdDocument,
    Graph,
    PodClient,
    access_need,
    publish_client_document,
    publish_key,
)
from apps.sdk.needs import PROFILE_DOCUMENT
from apps.shared_view.cache import MemberCache
from apps.shared_view.membership import Membership
from apps.shared_view.model import DEFAULT_PURPOSE, NAMING_PURPOSE, Member
from apps.shared_view.pod_store import CommunityPod
from vocab.namespaces import iri_of
from vocab.terms import CP

log = logging.getLogger("apps.reputation")
#: the app's own documents in the community's pod (``reputation/`` holds its own statements)
FOLDER = "reputation-app/"
_SHOWS = ox.NamedNode(iri_of(CP.showsReputation))


def client_document(config: Config, pod: CommunityPod) -> ClientIdDocument:
    """The app's Client ID Document: read contributions (required to be a member), read
    appreciations and endorsements, append reputation statements, and the refusable need to
    be named. Showing one's score to the other members is chosen on the app's page."""
    def need(id: str, cls: str, modes: list[str], description: str,
             purpose: str = DEFAULT_PURPOSE) -> AccessNeed:
        return access_need(id=id, cls=cls, modes=modes, purpose=purpose,
                           duration=config.duration, description=description)

    return ClientIdDocument(
        client_id=pod.client_id, client_name=f"{config.name}: reputation",
        redirect_uris=[config.redirect_uri],
        needs=[
            need("contributions", "cp:Contribution", ["read"],
                 f"Count your contributions in {config.name}'s reputation, under the rules "
                 "its members set."),
            need("appreciations", "vf:Appreciation", ["read"],
                 "Count the thanks you give other members for their contributions."),
            need("endorsements", "obv3:EndorsementCredential", ["read"],
                 "Count your endorsements of other members."),
            need("statements", "cp:ReputationStatement", ["append"],
                 "Give you a signed statement of your reputation and how it was computed."),
            need("named", PROFILE_DOCUMENT, ["read"],
                 "Show your name beside your score. Untick this to stay unnamed.",
                 NAMING_PURPOSE),
        ],
        agent_webid=config.community, grant_webhook=config.webhook)


@dataclass
class Run:
    """One run: when, the scores, what was read, and the statements appended."""

    at: datetime
    result: Result
    gathered: Gathered
    issued: dict[str, statements.Issued] = field(default_factory=dict)
    not_issued: dict[str, str] = field(default_factory=dict)  # WebID → why
    seconds: dict[str, float] = field(default_factory=dict)  # phase → wall time


class Reputation:
    """Everything the pages use."""

    def __init__(self, config: Config, app: PodClient, pod: CommunityPod, rules: RulesStore,
                 seed: bytes, verification_method: str) -> None:
        self.config, self.app, self.pod, self.rules = config, app, pod, rules
        self.seed, self.verification_method = seed, verification_method
        self.membership = Membership(pod, app, MemberCache(), redirect_uri=config.redirect_uri,
                                     allow_private=config.allow_private_fetch)
        self.issued_doc = pod.folder + "issued.ttl"
        self.shown_doc = pod.folder + "shown.ttl"
        self._community_node = ox.NamedNode(self.shown_doc + "#community")
        self.members: dict[str, Member] = {}
        self.shown: set[str] = set()  # members who agreed to show their score and why
        self.last: Run | None = None
        self._lock = asyncio.Lock()

    def why_url(self, webid: str) -> str:
        return self.config.public_url + "why?member=" + webid.replace("#", "%23")

    async def load_shown(self) -> None:
        graph, _ = await self.pod.read_document(self.shown_doc)
        self.shown = {o.value for o in graph.objects(self._community_node, _SHOWS)
                      if isinstance(o, ox.NamedNode)}

    async def show(self, webid: str, shown: bool) -> None:
        """``webid`` agrees (or no longer agrees) that other members see their score."""
        def change(graph: Graph) -> Graph:
            found = {o.value for o in graph.objects(self._community_node, _SHOWS)
                     if isinstance(o, ox.NamedNode)}
            found = (found | {webid}) if shown else (found - {webid})
            new = Graph()
            for who in sorted(found):
                new.add(self._community_node, _SHOWS, ox.NamedNode(who))
            self.shown = found
            return new

        await self.pod.update_document(self.shown_doc, change)

    async def run(self) -> Run:
        """Read, compute, and give every consenting member their statement."""
        async with self._lock:
            clock = time.monotonic()
            rules = await self.rules.in_force()
            self.members = await self.pod.members()
            gathered = await gather(self.app, self.members, concurrency=self.config.concurrency,
                                    timeout=self.config.timeout)
            if gathered.withdrawn:
                self.members = await self.pod.remove_members(gathered.withdrawn)
            read, clock = time.monotonic() - clock, time.monotonic()
            result = compute(rules, gathered.inputs, self.config.community)
            scored, clock = time.monotonic() - clock, time.monotonic()
            run = Run(statements.now(), result, gathered)
            await self._issue(run, gathered.targets)
            run.seconds = {"read": read, "score": scored, "issue": time.monotonic() - clock}
            self.last = run
            return run

    async def _issue(self, run: Run, targets: dict[str, str]) -> None:
        graph, _ = await self.pod.read_document(self.issued_doc)
        previous = statements.latest(statements.issued_from(graph))
        semaphore = asyncio.Semaphore(self.config.concurrency)

        async def give(webid: str) -> None:
            target = targets.get(webid)
            if target is None:
                run.not_issued[webid] = "no grant to append statements"
                return
            score = run.result.scores[webid]
            before = previous.get(webid)
            unsigned = statements.statement(
                run.result, score, community=self.config.community,
                community_name=self.config.name, why_url=self.why_url(webid),
                previous=before.id if before else None, now=run.at)
            async with semaphore:  # signing here overlaps it with the posts in flight
                credential = statements.signed(unsigned, self.seed, self.verification_method)
                try:
                    made = await self.app.post(target, credential)
                except Exception as exc:  # one member's failure is theirs alone
                    run.not_issued[webid] = f"{type(exc).__name__}: {exc}"[:300]
                    return
            run.issued[webid] = statements.Issued(made.location or target, credential["id"],
                                                  webid, run.at)

        await asyncio.gather(*(give(w) for w in sorted(run.result.scores)))
        if run.issued:
            kept = {**previous, **run.issued}
            kept = {w: i for w, i in kept.items() if w in self.members}
            await self.pod.update_document(
                self.issued_doc, lambda _: statements.issued_graph(list(kept.values())))

    async def forget(self, webid: str) -> None:
        """After a member left: nothing of theirs is shown any more."""
        async with self._lock:
            self.members = await self.pod.members()
            await self.show(webid, False)
            if self.last is not None:
                self.last.result.scores.pop(webid, None)


@contextlib.asynccontextmanager
async def running(config: Config) -> AsyncIterator[Reputation]:
    """Sign in as the community, publish its key and Client ID Document, make sure the rules
    exist, and run on schedule until the app stops."""
    seed = load_key(config.key_file)
    async with signed_in(config.community, config.credential, per_server=config.per_server,
                         timeout=config.timeout) as community:
        app, storage = community.client, community.storage
        pod = CommunityPod(app, storage, FOLDER)
        vm = await publish_key(app, config.community, seed)
        await publish_client_document(app, client_document(config, pod))
        rules = RulesStore(app, storage)
        await rules.in_force()
        service = Reputation(config, app, pod, rules, seed, vm)
        service.members = await pod.members()
        await service.load_shown()
        async with repeating(service.run, config.run_every, at_once=False, log=log,
                             failed="scheduled run failed"):
            yield service


