"""Statements the owner received — reward badges and reputation scores (docs/statements.md)
— as the statements page shows them: each verified again now, by whom, for what, on what
evidence.

They live in the containers the owner's type index registers for ``cp:RewardStatement`` and
``cp:ReputationStatement``; the server checked each proof when it was written, but a key can
be taken out of its issuer's profile, a statement can expire, and its issuer can revoke it
(Bitstring Status List) since, so every one is verified again when shown, its status included
(:meth:`~pod.statements.checking.StatementChecker.verdict` with ``check_status``), and the page
says why one does not verify. What a statement says is read from its JSON as stored, for showing
only; the verdict is what vouches for it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from auth import untrusted_json
from pod.access.agent import Agent
from pod.access.browsing import PodBrowsing
from pod.errors import PodError
from pod.resources.paths import Target, parse_target
from pod.statements.checking import JSON_LD, NOT_JSON_LD, StatementChecker
from pod.store.sealed import PodKeys
from vocab.namespaces import iri_of
from vocab.terms import CP

KINDS = ((iri_of(CP.RewardStatement), "reward"), (iri_of(CP.ReputationStatement), "reputation"))
MAX_SHOWN = 50  # statements verified for one page (each is a worker job and key lookups)
MAX_TEXT = 500


@dataclass
class Statement:
    """One statement as the page shows it."""

    url: str
    kind: str  # "reward" | "reputation"
    verified: bool
    reasons: list[str]
    revoked: bool = False  # its issuer set its revocation bit
    suspended: bool = False  # its issuer set its suspension bit
    issuer: str | None = None
    issuer_name: str | None = None  # the name the credential gives its issuer
    subject: str | None = None
    title: str = ""  # what it is for: the badge, or the score
    details: list[str] = field(default_factory=list)  # description, criteria, explanation
    evidence: list[tuple[str, str]] = field(default_factory=list)  # (IRI, name or "")
    valid_from: str | None = None
    valid_until: str | None = None
    modified: float = 0.0
    body: bytes = field(default=b"", repr=False)  # the stored JSON-LD, for the verdict


def _text(value: Any) -> str:
    """A JSON-LD value as text: a string, or a value object's ``@value``."""
    if isinstance(value, dict):
        value = value.get("@value")
    if isinstance(value, list):
        value = next(iter(value), None)
    if isinstance(value, bool) or value is None:
        return ""
    return str(value)[:MAX_TEXT] if isinstance(value, str | int | float) else ""


def _id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _reward(doc: dict[str, Any], shown: Statement) -> None:
    achievement = _obj(_obj(doc.get("credentialSubject")).get("achievement"))
    shown.title = _text(achievement.get("name")) or _text(doc.get("name"))
    shown.details = [t for t in (_text(achievement.get("description")),
                                 _text(_obj(achievement.get("criteria")).get("narrative")))
                     if t]
    shown.evidence = [(i, _text(_obj(e).get("name"))) for e in _list(doc.get("evidence"))
                      if (i := _id(e))]


def _reputation(doc: dict[str, Any], shown: Statement) -> None:
    score = _obj(_obj(doc.get("credentialSubject")).get("reputation"))
    value, best = _text(score.get("ratingValue")), _text(score.get("bestRating"))
    worst = _text(score.get("worstRating"))
    shown.title = f"Reputation {value}" + (f" on a scale of {worst} to {best}"
                                          if best and worst else "") if value else "Reputation"
    plan = _obj(_obj(_obj(score.get("wasGeneratedBy")).get("qualifiedAssociation"))
                .get("hadPlan"))
    shown.details = [t for t in (_text(score.get("ratingExplanation")),
                                 f"Method: {_text(plan.get('name'))}" if plan.get("name")
                                 else "") if t]
    shown.evidence = [(i, "") for e in _list(score.get("wasDerivedFrom")) if (i := _id(e))]


def described(url: str, kind: str, body: bytes, media_type: str) -> Statement:
    """What a stored statement says (unverified; :meth:`Received.list` adds the verdict)."""
    shown = Statement(url, kind, False, [])
    if media_type != JSON_LD:
        shown.reasons = [NOT_JSON_LD]
        return shown
    try:
        doc = untrusted_json.loads(body)
    except untrusted_json.JSONError as error:
        shown.reasons = [f"it is not JSON: {error}"]
        return shown
    if not isinstance(doc, dict):
        shown.reasons = ["it is no credential (not a JSON object)"]
        return shown
    issuer = doc.get("issuer")
    shown.issuer, shown.issuer_name = _id(issuer), _text(_obj(issuer).get("name")) or None
    shown.subject = _id(doc.get("credentialSubject"))
    shown.valid_from = _text(doc.get("validFrom") or doc.get("issuanceDate")) or None
    shown.valid_until = _text(doc.get("validUntil") or doc.get("expirationDate")) or None
    (_reward if kind == "reward" else _reputation)(doc, shown)
    return shown


class Received:
    """Reads and verifies the statements in the owner's registered containers."""

    def __init__(self, browsing: PodBrowsing, checker: StatementChecker | None):
        self.browsing, self.checker = browsing, checker
        self.resources = browsing.resources

    async def list(self, keys: PodKeys, pod: str, webid: str) -> tuple[list[Statement], int]:
        """Up to :data:`MAX_SHOWN` statements, newest first, each with its verdict now; and
        how many there are in all."""
        me = Agent(webid=webid)
        statements: list[Statement] = []
        total = 0
        for cls, kind in KINDS:
            for container in await self.resources.registered(keys, pod, cls):
                target = parse_target("/" + container[len(self.resources.base_url):])
                found = await self.browsing.view(keys, target, me)
                names = [m for m in found.members if not m.endswith("/")]
                total += len(names)
                for name in names:
                    item = await self._read(keys, target.with_path(target.path + name), me,
                                            kind)
                    if item is not None:
                        statements.append(item)
        statements.sort(key=lambda s: s.modified, reverse=True)
        shown = statements[:MAX_SHOWN]
        await asyncio.gather(*(self._verify(s) for s in shown))
        return shown, total

    async def _read(self, keys: PodKeys, target: Target, me: Agent, kind: str
                    ) -> Statement | None:
        try:
            res = (await self.browsing.view(keys, target, me)).resource
        except PodError:
            return None
        if res is None:
            return None
        shown = described(self.resources.url(target), kind, res.body, res.content_type)
        shown.modified, shown.body = res.modified, res.body
        return shown

    async def _verify(self, shown: Statement) -> None:
        if shown.reasons:
            return
        if self.checker is None:
            shown.reasons = ["this server process verifies no statements"]
            return
        try:
            verdict = await self.checker.verdict(shown.body, check_status=True)
        except PodError as error:
            shown.reasons = [error.detail]
            return
        shown.verified, shown.reasons = verdict.verified, list(verdict.reasons)
        shown.revoked = verdict.revoked
        shown.suspended = verdict.status.get("suspension", False)
        shown.issuer = verdict.issuer or shown.issuer


__all__ = ["Received", "Statement", "described"]
