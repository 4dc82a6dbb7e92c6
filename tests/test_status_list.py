"""Bitstring Status List (apps/sdk/statements/status.py): the encoding the specification fixes,
entries signed into credentials, and `verify` reporting a revoked credential."""

from __future__ import annotations

import asyncio
import base64
import gzip
import os
from typing import Any

import pytest

from apps.sdk.statements import did_key, did_key_vm, public_key, reward_statement, sign, verify
from apps.sdk.statements.credentials import Verdict, conclude, prepare
from apps.sdk.statements.status import (
    MIN_ENTRIES,
    StatusList,
    StatusListError,
    status_entry,
    status_list_credential,
    with_status,
)
from vocab.contexts import STATUS_LIST_V1, context

LIST = "https://riverside.example/community/rewards/status/1"


def _issuer(seed: bytes) -> tuple[str, str]:
    key = public_key(seed)
    return did_key(key), did_key_vm(key)


def test_encoding_is_gzip_base64url_multibase_msb_first() -> None:
    bits = StatusList()
    assert bits.size == MIN_ENTRIES
    bits[0] = bits[9] = bits[MIN_ENTRIES - 1] = True
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == MIN_ENTRIES // 8
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0100_0000 and raw[-1] == 1
    back = StatusList.decode(encoded)
    assert [i for i in range(MIN_ENTRIES) if back[i]] == [0, 9, MIN_ENTRIES - 1]
    back[9] = False
    assert not back[9] and back[0]
    assert len(StatusList().encode()) < 200  # an empty list compresses to almost nothing


@pytest.mark.parametrize("bad", ["zabc", "u!!!", "u" + base64.urlsafe_b64encode(
    b"not gzip").decode().rstrip("="), "u" + base64.urlsafe_b64encode(
    gzip.compress(bytes(10), mtime=0)).decode().rstrip("=")])
def test_bad_lists_are_refused(bad: str) -> None:
    with pytest.raises(StatusListError):
        StatusList.decode(bad)


def test_small_lists_and_bad_indexes_are_refused() -> None:
    with pytest.raises(StatusListError):
        StatusList(1024)
    with pytest.raises(StatusListError):
        StatusList()[MIN_ENTRIES]
    with pytest.raises(StatusListError):
        status_entry(list_id=LIST, index=-1)
    with pytest.raises(ValueError):
        with_status({"proof": {}}, status_entry(list_id=LIST, index=1))


def test_status_context_is_bundled_and_agrees_with_vc_v2() -> None:
    own = context(STATUS_LIST_V1)["@context"]
    v2 = context("https://www.w3.org/ns/credentials/v2")["@context"]
    for term in ("BitstringStatusListCredential", "BitstringStatusList",
                 "BitstringStatusListEntry"):
        assert own[term] == v2[term]


def _badge(issuer: str, index: int) -> dict[str, Any]:
    return reward_statement(
        issuer=issuer, issuer_name="Riverside", subject="https://pods.example/ann/profile/card#me",
        achievement_id="https://riverside.example/badges/organiser", name="Organiser",
        description="Three events organised.", criteria="Three events in twelve months.",
        evidence=[{"id": "https://pods.example/ann/contributions/e1", "name": "e1"}],
        status=status_entry(list_id=LIST, index=index))


def test_verify_reports_revoked_and_refuses_forged_lists() -> None:
    seed = os.urandom(32)
    issuer, vm = _issuer(seed)
    bits = StatusList()
    bits[7] = True
    published = sign(status_list_credential(list_id=LIST, issuer=issuer, status_list=bits),
                     private_key=seed, verification_method=vm)
    served = {LIST: published}

    async def resolve(url: str) -> dict[str, Any]:
        return served[url]

    kept, revoked = (sign(_badge(issuer, i), private_key=seed, verification_method=vm)
                     for i in (6, 7))
    ok = asyncio.run(verify(kept, resolve=resolve))
    assert ok.verified and not ok.revoked and ok.status == {"revocation": False}
    no = asyncio.run(verify(revoked, resolve=resolve))
    assert not no.verified and no.revoked
    assert no.reasons == ["the issuer has revoked the credential (its revocation status is set)"]
    # the status check can be skipped (the server's check of a write does)
    assert asyncio.run(verify(revoked, resolve=resolve, check_status=False)).verified

    # a list signed by someone else, or tampered with, decides nothing: the badge fails
    other = os.urandom(32)
    o_issuer, o_vm = _issuer(other)
    served[LIST] = sign(status_list_credential(list_id=LIST, issuer=o_issuer,
                                               status_list=StatusList()),
                        private_key=other, verification_method=o_vm)
    forged = asyncio.run(verify(revoked, resolve=resolve))
    assert not forged.verified and "not issued by the credential's issuer" in forged.reasons[0]
    tampered = dict(published, credentialSubject={**published["credentialSubject"],
                                                  "encodedList": StatusList().encode()})
    served[LIST] = tampered
    assert "does not verify" in asyncio.run(verify(revoked, resolve=resolve)).reasons[0]
    served.clear()
    gone = asyncio.run(verify(kept, resolve=resolve))
    assert not gone.verified and "could not be fetched" in gone.reasons[0]


def test_conclude_verifies_the_list_with_the_callers_verify_list() -> None:
    """A server splits the work (``prepare`` in a worker, then ``conclude``) and verifies the
    status list credential its own way too: ``verify_list`` decides whether the list counts."""
    seed = os.urandom(32)
    issuer, vm = _issuer(seed)
    bits = StatusList()
    bits[3] = True
    published = sign(status_list_credential(list_id=LIST, issuer=issuer, status_list=bits),
                     private_key=seed, verification_method=vm)
    revoked = sign(_badge(issuer, 3), private_key=seed, verification_method=vm)
    asked: list[str] = []

    async def fetch(url: str) -> dict[str, Any]:
        return published

    async def trusting(listed: dict[str, Any]) -> Verdict:
        asked.append(listed["id"])
        return await verify(listed, check_status=False)

    async def refusing(listed: dict[str, Any]) -> Verdict:
        return Verdict(False, ["over its time budget"])

    def concluded(verify_list: Any) -> Verdict:
        return asyncio.run(conclude(prepare(revoked), check_status=True, resolve_status=fetch,
                                    verify_list=verify_list))

    seen = concluded(trusting)
    assert asked == [LIST] and seen.revoked and not seen.verified
    refused = concluded(refusing)
    assert not refused.verified and not refused.revoked
    assert refused.reasons == [f"its revocation status could not be checked: the status list "
                               f"{LIST} does not verify: over its time budget"]
