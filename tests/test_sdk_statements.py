"""Statements through the SDK against a live server: a community publishes its key, signs a
reward and a reputation statement as typed records, a member stores them (the server checks
the proofs with the same implementation), a bulk read gives them back as records with their
signed credentials, and they verify over HTTP — and with the server's ``vc verify``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from nacl.signing import SigningKey

from apps.sdk import (
    EvidenceItem,
    HttpResolver,
    PodClient,
    ReputationStatement,
    RewardStatement,
    UnverifiedStatement,
    client_credentials,
    publish_key,
)
from apps.sdk.statements import verify
from tests.conftest import Server, cli
from tests.test_accounts import unique

T = TypeVar("T")
SEED = bytes(SigningKey.generate())


def run(work: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(work())


async def session_of(who: dict[str, str]) -> Any:
    return await client_credentials(who["issuer"], who["client_id"], who["client_secret"])


@pytest.fixture(scope="module")
def people(server: Server) -> dict[str, dict[str, str]]:
    return {"community": server.create_account(unique("com")),
            "member": server.create_account(unique("mem"))}


def reward(people: dict[str, dict[str, str]]) -> RewardStatement:
    member = people["member"]
    return RewardStatement(
        issuer=people["community"]["webid"], issuer_name="Riverside Repair Café",
        subject=member["webid"], achievement_id="https://riverside.example/badges/carer",
        name="Carer", description="Looked after the café's regulars.",
        criteria="Three care contributions in a season.",
        evidence=(EvidenceItem(member["pod"] + "contributions/c1#it", "First care shift"),),
        valid_from=datetime(2025, 4, 1, tzinfo=UTC))


def reputation(people: dict[str, dict[str, str]]) -> ReputationStatement:
    member = people["member"]
    return ReputationStatement(
        issuer=people["community"]["webid"], subject=member["webid"],
        score=Decimal("4.5"), worst=0, best=5, count=3, explanation="Three good shifts.",
        method="https://riverside.example/methods/average", method_name="Average of ratings",
        derived_from=(member["pod"] + "contributions/c1#it",),
        generated_at=datetime(2025, 6, 1, 12, tzinfo=UTC),
        valid_from=datetime(2025, 6, 1, tzinfo=UTC),
        valid_until=datetime(2099, 1, 1, tzinfo=UTC),
        id="urn:uuid:5b1c3a52-0d3b-4a43-9bd0-8d1b64c0b1e7")


def test_a_reputation_statement_reads_back_from_its_credential(people) -> None:
    made = reputation(people)
    credential = made.to_credential()
    again = ReputationStatement.from_credential(credential)
    assert again == made
    assert again.credential == credential


def test_signed_records_are_stored_collected_and_verified(server: Server, people,
                                                          tmp_path: Path) -> None:
    community, member = people["community"], people["member"]

    async def work() -> dict[str, Any]:
        async with PodClient(await session_of(community)) as board:
            vm = await publish_key(board, community["webid"], SEED)
            again = await publish_key(board, community["webid"], SEED)  # already there
            badge = reward(people).signed(private_key=SEED, verification_method=vm)
            score = reputation(people).signed(private_key=SEED, verification_method=vm)
        async with PodClient(await session_of(member)) as own:
            await own.put(member["pod"] + "rewards/carer", badge)
            await own.put(member["pod"] + "reputation/q2", score)
            tampered = {**badge, "name": "Chief carer"}
            refused = None
            try:  # the server checks the proof before storing it
                await own.put(member["pod"] + "rewards/forged", tampered)
            except UnverifiedStatement as exc:
                refused = exc
            rewards = await own.collect(member["pod"], RewardStatement)
            scores = await own.collect(member["pod"], "cp:ReputationStatement")
        async with PodClient() as anyone:
            resolver = HttpResolver(anyone)
            verdicts = [await verify(r.credential, resolve=resolver)
                        for r in rewards.records + scores.records]
            forged = await verify(tampered, resolve=resolver)
        return dict(vm=vm, again=again, badge=badge, refused=refused, rewards=rewards,
                    scores=scores, verdicts=verdicts, forged=forged)

    r = run(work)
    assert r["vm"] == r["again"] == community["webid"].replace("#me", "#vc-key-1")
    assert r["refused"] is not None and r["refused"].reasons
    [got] = r["rewards"].records
    assert got == RewardStatement(**{**reward(people).__dict__, "id": r["badge"]["id"],
                                     "credential": None})
    assert got.credential == r["badge"]
    [score] = r["scores"].records
    assert score == reputation(people)
    assert all(v.verified for v in r["verdicts"]), [v.reasons for v in r["verdicts"]]
    assert {v.issuer for v in r["verdicts"]} == {community["webid"]}
    assert not r["forged"].verified and "altered" in " ".join(r["forged"].reasons)

    # the server's command line verifies what the SDK signed, with the same code
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(r["badge"]), encoding="utf-8")
    checked = cli("vc", "verify", str(path), "--key",
                  _multibase(SEED), check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_key_cannot_be_swapped_under_published_statements(people) -> None:
    community = people["community"]

    async def work() -> None:
        async with PodClient(await session_of(community)) as board:
            await publish_key(board, community["webid"], SEED)
            await publish_key(board, community["webid"], bytes(SigningKey.generate()))

    with pytest.raises(ValueError, match="already lists another key"):
        run(work)


def _multibase(seed: bytes) -> str:
    from apps.sdk.statements import public_key, public_key_multibase

    return public_key_multibase(public_key(seed))
