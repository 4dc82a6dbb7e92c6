"""One issuance run, and revocation.

A run reads the rules in force and the members (the shared view's list in the community's
pod); for each member whose pod grants the community both reading their contributions and
appending reward statements, it reads their contributions and finds the badges they have
earned (:mod:`apps.rewards.criteria`). Badges not in the ledger yet are entered ``pending``
in one ledger write, then every pending badge of a consenting member is signed and appended to
their ``rewards/`` container, then those delivered are marked ``issued`` in one more write. A
run that stops anywhere leaves only ``pending`` entries, which the next run delivers with the
same id, status bit and time: no badge is half-issued and none is issued twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apps.rewards import criteria, statuslist
from apps.rewards.ledger import FOLDER, ISSUED, PENDING, REVOKED, Entry, Ledger, LedgerStore
from apps.rules.model import Rules
from apps.sdk import Community, Contribution, Forbidden, PodClient, RewardStatement
from apps.sdk.statements import reward_statement, sign
from apps.sdk.statements.status import status_entry
from apps.shared_view.model import Member

log = logging.getLogger("apps.rewards")
REWARD_CLASS = RewardStatement.cls


@dataclass(frozen=True)
class Issuer:
    """The community as issuer: its pod, WebID, name and signing key."""

    client: PodClient
    pod: str
    webid: str
    name: str
    seed: bytes = field(repr=False)
    vm: str = ""

    @property
    def ledger(self) -> LedgerStore:
        return LedgerStore(self.client, self.pod)


@dataclass
class Report:
    """What a run did: badges delivered now, still pending, members skipped and why."""

    delivered: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # member → why


@dataclass(frozen=True)
class Consenting:
    """A member who consents: where badges go, and their contributions."""

    container: str
    contributions: list[Contribution]


async def _consenting(client: PodClient, pod: str) -> Consenting | None:
    """Where a member takes badges and their contributions, or ``None`` when they do not
    consent to both. A read grant that names no class (written by hand) is tried, as the
    reputation app does: the pod's answer says whether it covers contributions."""
    grants = await client.grants(pod)
    permissions = [p for g in grants for p in g.permissions]
    targets = [p.target for p in permissions if p.cls == REWARD_CLASS and "append" in p.modes]
    readable = {p.cls for p in permissions if "read" in p.modes}
    if not targets or not readable & {Contribution.cls, None}:
        return None
    try:
        found = await client.collect(pod, Contribution)
    except Forbidden:
        return None
    records = [r for r in found.records if isinstance(r, Contribution)]
    container = targets[0] if targets[0].endswith("/") else targets[0] + "/"
    return Consenting(container, records)


def credential(issuer: Issuer, cid: str, entry: Entry) -> dict[str, object]:
    """The signed badge an entry stands for (the same id, bit and time on every delivery)."""
    unsigned = reward_statement(
        issuer=issuer.webid, issuer_name=issuer.name, subject=entry.member,
        achievement_id=f"{issuer.pod}{FOLDER}badges#{entry.badge}", name=entry.name,
        description=entry.description, criteria=entry.criteria,
        evidence=[{"id": iri, "name": name} for iri, name in entry.evidence],
        valid_from=datetime.fromisoformat(entry.issued_at), credential_id=cid,
        criteria_id=entry.rules,
        status=status_entry(list_id=statuslist.list_url(issuer.pod), index=entry.index))
    return sign(unsigned, private_key=issuer.seed, verification_method=issuer.vm)


def _narrative(award: criteria.Award, rules: Rules) -> str:
    b = award.badge
    return (f"{b.count} contributions of the kind {b.kind} within {b.window_days} days, "
            f"under the community's rules version {rules.version} ({rules.iri}).")


async def run(issuer: Issuer, rules: Rules, members: dict[str, Member],
              now: datetime | None = None, *, concurrency: int = 8) -> Report:
    """Issue every badge due under ``rules`` to ``members``; finish what an earlier run left
    pending."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    report = Report()
    community = Community(issuer.client, concurrency=concurrency)
    by_pod = {m.pod: m for m in members.values()}
    consenting: dict[str, Consenting] = {}
    for result in await community.run(list(by_pod), _consenting):
        member = by_pod[result.member]
        if result.error is not None:
            report.skipped[member.webid] = f"unreachable: {result.error}"
        elif result.value is None:
            report.skipped[member.webid] = "does not consent to receive badges"
        else:
            consenting[member.webid] = result.value
    due = criteria.awards(rules.badges, rules.version,
                          {w: c.contributions for w, c in consenting.items()}, now)

    def enter(ledger: Ledger) -> None:
        for award in due:
            cid = criteria.credential_id(issuer.webid, award.member, award.badge.slug,
                                         award.version)
            if cid in ledger.entries:
                continue
            ledger.entries[cid] = Entry(
                member=award.member, badge=award.badge.slug, name=award.badge.name,
                description=award.badge.description, criteria=_narrative(award, rules),
                version=award.version, rules=rules.iri, index=ledger.next_index,
                issued_at=now.isoformat(), container=consenting[award.member].container,
                slug=criteria.document_name(cid, award.badge.slug, award.version),
                evidence=[[e.iri, e.name] for e in award.evidence])
            ledger.next_index += 1

    ledger, _ = await issuer.ledger.read()
    if any(criteria.credential_id(issuer.webid, a.member, a.badge.slug, a.version)
           not in ledger.entries for a in due):
        ledger = await issuer.ledger.change(enter)
    await statuslist.ensure(issuer.client, issuer.pod, issuer=issuer.webid, seed=issuer.seed,
                            vm=issuer.vm, revoked=ledger.revoked_indexes())
    todo = {cid: e for cid, e in ledger.entries.items()
            if e.state == PENDING and e.member in consenting}
    report.pending = sorted(cid for cid, e in ledger.entries.items()
                            if e.state == PENDING and cid not in todo)
    delivered = await _deliver(issuer, todo, concurrency)
    report.pending += sorted(set(todo) - set(delivered))
    if delivered:
        def mark(ledger: Ledger) -> None:
            for cid, document in delivered.items():
                entry = ledger.entries.get(cid)
                if entry is not None and entry.state == PENDING:
                    entry.state, entry.document = ISSUED, document

        await issuer.ledger.change(mark)
    report.delivered = sorted(delivered)
    return report


async def _deliver(issuer: Issuer, todo: dict[str, Entry], concurrency: int
                   ) -> dict[str, str]:
    """Append each pending badge to its member's container; credential id → document URL."""
    by_container: dict[str, list[tuple[str, Entry]]] = {}
    for cid, entry in sorted(todo.items()):
        by_container.setdefault(entry.container, []).append((cid, entry))
    delivered: dict[str, str] = {}

    async def work(client: PodClient, container: str) -> None:
        for cid, entry in by_container[container]:
            stored = await client.post(container, credential(issuer, cid, entry),
                                       content_type="application/ld+json", slug=entry.slug)
            wanted = container + entry.slug
            if stored.location not in (None, wanted):
                # delivered by a run that stopped before marking it: this copy has the same
                # id and bit, and the append-only grant cannot remove it
                log.warning("badge %s was already in the member's pod; a second copy with the "
                            "same id is at %s", cid, stored.location)
            delivered[cid] = wanted

    for result in await Community(issuer.client, concurrency=concurrency).run(
            list(by_container), work):
        if result.error is not None:
            log.warning("could not deliver to %s: %s", result.member, result.error)
    return delivered


async def revoke(issuer: Issuer, cid: str) -> Entry:
    """Revoke the badge ``cid``: marked in the ledger, then its bit set in the published
    status list (rebuilt from the ledger, so a revocation that stopped half-way is completed
    by the next run). ``KeyError`` when the community never issued it."""
    found: list[Entry] = []

    def mark(ledger: Ledger) -> None:
        entry = ledger.entries[cid]
        entry.state = REVOKED
        found.append(entry)

    ledger = await issuer.ledger.change(mark)
    await statuslist.publish(issuer.client, issuer.pod, issuer=issuer.webid, seed=issuer.seed,
                             vm=issuer.vm, revoked=ledger.revoked_indexes())
    return found[0]
