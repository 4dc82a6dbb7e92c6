"""Verifiable statements: the W3C vc-di-eddsa vector reproduces byte for byte; signing and
verification round-trip; any tampering, a foreign key or an expired credential fails, with a
reason in words."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from apps.sdk.statements import (
    TransformError,
    decode_private_key,
    decode_public_key,
    did_key,
    did_key_vm,
    public_key,
    public_key_multibase,
    resolve_did_key,
    sign,
    verify,
)
from apps.sdk.statements import cryptosuite as suite
from apps.sdk.statements.multikey import decode_multibase, encode_multibase
from tests.conftest import cli
from vocab.contexts import CREDENTIALS_V2, OPEN_BADGES_V3, UnknownContext, document_loader

VECTORS = Path(__file__).parent / "vectors" / "eddsa-rdfc-2022"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def vector(name: str) -> Any:
    text = (VECTORS / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def text(name: str) -> str:
    return vector(name).strip()


# --- the W3C vector ----------------------------------------------------------------------

def test_vector_key_pair() -> None:
    keys = vector("keyPair.json")
    seed = decode_private_key(keys["secretKeyMultibase"])
    assert public_key_multibase(public_key(seed)) == keys["publicKeyMultibase"]


def test_vector_canonical_document_and_hash() -> None:
    canonical = suite.canonicalize(vector("unsigned.json"))
    assert canonical == vector("canonicalDocument.nq")
    assert hashlib.sha256(canonical.encode()).hexdigest() == text("documentHash.txt")


def test_vector_canonical_proof_configuration_and_hash() -> None:
    options = vector("proofOptions.json")
    canonical = suite.proof_configuration(options, vector("unsigned.json")["@context"])
    assert canonical == vector("canonicalProofConfig.nq")
    assert hashlib.sha256(canonical.encode()).hexdigest() == text("proofConfigHash.txt")


def test_vector_hash_data_signature_and_proof_value() -> None:
    data = suite.hash_data(vector("canonicalProofConfig.nq"), vector("canonicalDocument.nq"))
    assert data.hex() == text("hashData.txt")
    seed = decode_private_key(vector("keyPair.json")["secretKeyMultibase"])
    signature = suite.sign_bytes(data, seed)
    assert signature.hex() == text("signatureHex.txt")
    assert encode_multibase(signature) == text("proofValue.txt")


def test_vector_sign_reproduces_the_signed_credential() -> None:
    options = vector("proofOptions.json")
    seed = decode_private_key(vector("keyPair.json")["secretKeyMultibase"])
    signed = sign(vector("unsigned.json"), private_key=seed,
                  verification_method=options["verificationMethod"], created=options["created"])
    assert signed == vector("signed.json")


def test_vector_verifies_through_did_key() -> None:
    # the vector's verification method is a did:key, but its issuer is an https URL: the key
    # is not the issuer's, so full verification must say so …
    verdict = asyncio.run(verify(vector("signed.json"), now=NOW))
    assert not verdict.verified
    assert any("not by the issuer" in r for r in verdict.reasons)
    # … while the signature itself checks against the published key
    key = vector("keyPair.json")["publicKeyMultibase"]
    verdict = asyncio.run(verify(vector("signed.json"), public_key_multibase=key, now=NOW))
    assert verdict.verified, verdict.reasons
    assert verdict.warnings


# --- contexts ----------------------------------------------------------------------------

def test_loader_serves_only_bundled_contexts() -> None:
    assert "@context" in document_loader(CREDENTIALS_V2)["document"]
    with pytest.raises(UnknownContext):
        document_loader("https://example.org/context.jsonld")


def test_an_unbundled_context_is_refused_not_fetched() -> None:
    with pytest.raises(TransformError, match="not bundled"):
        suite.canonicalize({"@context": "https://example.org/ctx", "name": "x"})


# --- safe mode ---------------------------------------------------------------------------

V1 = "https://www.w3.org/2018/credentials/v1"


def v1_credential(**extra: Any) -> dict[str, Any]:
    """A VC 1.1 credential: its context has no @vocab, so an undefined term would drop."""
    pub = public_key(SEED)
    return {"@context": [V1, "https://w3id.org/security/data-integrity/v2"],
            "id": "urn:uuid:8d0c52a4-54d4-4ad7-9d7e-2f6a2a0b9c11",
            "type": ["VerifiableCredential"], "issuer": did_key(pub),
            "issuanceDate": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "https://bob.example/profile/card#me"}, **extra}


def lax_signed(unsecured: dict[str, Any]) -> dict[str, Any]:
    """Signed as a processor without safe mode would: pyld drops what it cannot map."""
    pub = public_key(SEED)
    options = {"type": suite.PROOF_TYPE, "cryptosuite": suite.CRYPTOSUITE,
               "created": "2025-01-02T00:00:00Z", "verificationMethod": did_key_vm(pub),
               "proofPurpose": "assertionMethod"}

    def lax(doc: dict[str, Any]) -> str:
        return jsonld.normalize(doc, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                      "documentLoader": document_loader})

    data = suite.hash_data(lax({**options, "@context": unsecured["@context"]}), lax(unsecured))
    proof = {**options, "proofValue": encode_multibase(suite.sign_bytes(data, SEED))}
    return {**unsecured, "proof": proof}


def test_a_v1_credential_with_defined_terms_signs_and_verifies() -> None:
    pub = public_key(SEED)
    signed = sign(v1_credential(), private_key=SEED, verification_method=did_key_vm(pub))
    assert asyncio.run(verify(signed, now=NOW)).verified


@pytest.mark.parametrize(("change", "named"), [
    ({"nickname": "Bobby"}, "the term 'nickname' is not defined by any @context"),
    ({"credentialSubject": {"id": "https://bob.example/profile/card#me", "mentored": 3}},
     "the term 'mentored'"),
    ({"type": ["VerifiableCredential", "MentorCredential"]}, "the type 'MentorCredential'"),
    ({"credentialSubject": {"id": "profile/card#me"}}, "the @id 'profile/card#me'"),
], ids=["property", "nested-property", "relative-type", "relative-id"])
def test_safe_mode_refuses_what_a_signature_could_not_cover(change: dict[str, Any],
                                                             named: str) -> None:
    unsecured = v1_credential(**change)
    pub = public_key(SEED)
    with pytest.raises(TransformError, match=re.escape(named)):
        sign(unsecured, private_key=SEED, verification_method=did_key_vm(pub))
    # a signer without safe mode signs it; the verifier refuses it in words, not raising
    verdict = asyncio.run(verify(lax_signed(unsecured), now=NOW))
    assert not verdict.verified
    assert any(named in r and "could not cover" in r for r in verdict.reasons), verdict.reasons


def test_safe_mode_refuses_relative_types_and_blank_node_properties() -> None:
    with pytest.raises(TransformError, match="the type 'Mentor'"):
        suite.canonicalize(credential("did:example:x", type=["VerifiableCredential", "Mentor"]))
    with pytest.raises(TransformError, match="blank node"):
        suite.canonicalize({"@context": [V1, {"_:p": {"@id": "_:p"}}], "_:p": "x"})
    with pytest.raises(TransformError, match="maps to null"):
        suite.canonicalize({"@context": [V1, {"gone": None}], "gone": "x"})


def test_safe_mode_allows_embedded_contexts_absolute_iris_and_a_base() -> None:
    embedded = credential("did:example:x", **{
        "@context": [CREDENTIALS_V2, {"nickname": "https://example.org/nickname"}],
        "nickname": "Bobby", "https://example.org/extra": "absolute IRIs need no term"})
    assert "<https://example.org/nickname> \"Bobby\"" in suite.canonicalize(embedded)
    based = {"@context": [V1, {"@base": "https://bob.example/"}],
             "type": "VerifiableCredential", "credentialSubject": {"id": "profile/card#me"}}
    assert "<https://bob.example/profile/card#me>" in suite.canonicalize(based)


def test_a_v1_credential_without_the_data_integrity_context_is_explained() -> None:
    unsecured = v1_credential(**{"@context": [V1]})
    with pytest.raises(TransformError, match="data-integrity/v2"):
        sign(unsecured, private_key=SEED, verification_method=did_key_vm(public_key(SEED)))


# --- round trip with a did:key issuer ----------------------------------------------------

SEED = bytes(range(32))
OTHER_SEED = bytes(range(1, 33))


def credential(issuer: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2],
        "id": "urn:uuid:0f9c3f1e-2f3b-4f4c-9c59-2f1f3b8a7a10",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://bob.example/profile/card#me",
                              "name": "Bob", "description": "mentored three newcomers"},
        **extra,
    }


def did_signed(**extra: Any) -> dict[str, Any]:
    pub = public_key(SEED)
    return sign(credential(did_key(pub), **extra), private_key=SEED,
                verification_method=did_key_vm(pub), created="2025-01-02T00:00:00Z")


def test_round_trip_with_a_did_key_issuer() -> None:
    verdict = asyncio.run(verify(did_signed(), now=NOW))
    assert verdict.verified and verdict.reasons == [] and verdict.warnings == []


def test_resolve_did_key() -> None:
    pub = public_key(SEED)
    doc = resolve_did_key(did_key_vm(pub))
    assert doc["id"] == did_key(pub)
    assert decode_public_key(doc["verificationMethod"][0]["publicKeyMultibase"]) == pub


@pytest.mark.parametrize("change", [
    lambda c: c["credentialSubject"].__setitem__("name", "Mallory"),
    lambda c: c["credentialSubject"].__setitem__("id", "https://mallory.example/#me"),
    lambda c: c.__setitem__("validFrom", "2025-01-01T00:00:01Z"),
    lambda c: c.__setitem__("id", "urn:uuid:00000000-0000-4000-8000-000000000000"),
    lambda c: c["type"].append("https://commonpod.org/ns#RewardStatement"),
    lambda c: c.__setitem__("description", "an added statement"),
], ids=["subject-name", "subject-id", "validFrom", "id", "type", "added-statement"])
def test_tampering_with_a_statement_fails(change: Any) -> None:
    tampered = did_signed()
    change(tampered)
    verdict = asyncio.run(verify(tampered, now=NOW))
    assert not verdict.verified
    assert any("signature does not match" in r for r in verdict.reasons)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("created", "2025-01-03T00:00:00Z", "signature does not match"),
    ("proofPurpose", "authentication", "proof purpose"),
    ("cryptosuite", "eddsa-jcs-2022", "cryptosuite"),
    ("type", "Ed25519Signature2020", "proof type"),
    ("proofValue", "z" + "1" * 60, "64-byte"),
    ("proofValue", "uAAAA", "base58btc"),
])
def test_tampering_with_the_proof_fails(field: str, value: str, reason: str) -> None:
    tampered = did_signed()
    tampered["proof"][field] = value
    verdict = asyncio.run(verify(tampered, now=NOW))
    assert not verdict.verified
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_a_flipped_signature_bit_fails() -> None:
    tampered = did_signed()
    sig = bytearray(decode_multibase(tampered["proof"]["proofValue"]))
    sig[10] ^= 1
    tampered["proof"]["proofValue"] = encode_multibase(bytes(sig))
    assert not asyncio.run(verify(tampered, now=NOW)).verified


def test_swapping_the_verification_method_fails() -> None:
    # another did:key: not controlled by the issuer, and the signature is not its own
    tampered = did_signed()
    tampered["proof"]["verificationMethod"] = did_key_vm(public_key(OTHER_SEED))
    verdict = asyncio.run(verify(tampered, now=NOW))
    assert not verdict.verified
    assert any("not by the issuer" in r for r in verdict.reasons)


def test_a_key_not_controlled_by_the_issuer_fails() -> None:
    # signed with Mallory's did:key but claiming Alice's did:key as the issuer
    mallory = public_key(OTHER_SEED)
    forged = sign(credential(did_key(public_key(SEED))), private_key=OTHER_SEED,
                  verification_method=did_key_vm(mallory))
    verdict = asyncio.run(verify(forged, now=NOW))
    assert not verdict.verified
    assert any("not by the issuer" in r for r in verdict.reasons)


def test_expired_and_not_yet_valid_fail() -> None:
    expired = did_signed(validUntil="2025-03-01T00:00:00Z")
    verdict = asyncio.run(verify(expired, now=NOW))
    assert not verdict.verified and any("expired" in r for r in verdict.reasons)
    early = asyncio.run(verify(did_signed(), now=datetime(2024, 1, 1, tzinfo=UTC)))
    assert not early.verified and any("not valid before" in r for r in early.reasons)


def test_missing_proof_fails() -> None:
    unsigned = credential("did:example:x")
    verdict = asyncio.run(verify(unsigned, now=NOW))
    assert not verdict.verified and verdict.reasons == ["the credential has no proof"]


# --- an https issuer resolved through a caller-supplied resolver -------------------------

ISSUER = "https://alice.example/profile/card#me"
KEY_ID = "https://alice.example/profile/card#key-1"


def profile(*, controller: str = ISSUER, listed: bool = True, seed: bytes = SEED
            ) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/cid/v1"],
        "@graph": [
            {"id": ISSUER, "assertionMethod": [KEY_ID] if listed else []},
            {"id": KEY_ID, "type": "Multikey", "controller": controller,
             "publicKeyMultibase": public_key_multibase(public_key(seed))},
        ],
    }


def resolver(doc: dict[str, Any]) -> Any:
    calls: list[str] = []

    async def resolve(url: str) -> dict[str, Any]:
        calls.append(url)
        if url != "https://alice.example/profile/card":
            raise LookupError("404 Not Found")
        return copy.deepcopy(doc)

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def web_signed() -> dict[str, Any]:
    return sign(credential(ISSUER), private_key=SEED, verification_method=KEY_ID)


def test_round_trip_with_a_resolved_issuer_document() -> None:
    resolve = resolver(profile())
    verdict = asyncio.run(verify(web_signed(), resolve=resolve, now=NOW))
    assert verdict.verified, verdict.reasons
    assert resolve.calls == ["https://alice.example/profile/card"]


@pytest.mark.parametrize(("doc", "reason"), [
    (profile(controller="https://mallory.example/#me"), "not by the issuer"),
    (profile(listed=False), "does not list the key"),
    (profile(seed=OTHER_SEED), "signature does not match"),
], ids=["controller", "not-listed", "other-key"])
def test_a_key_the_issuer_does_not_control_fails(doc: dict[str, Any], reason: str) -> None:
    verdict = asyncio.run(verify(web_signed(), resolve=resolver(doc), now=NOW))
    assert not verdict.verified
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_an_unresolvable_verification_method_fails_in_words() -> None:
    tampered = web_signed()
    tampered["proof"]["verificationMethod"] = "https://elsewhere.example/keys#1"
    verdict = asyncio.run(verify(tampered, resolve=resolver(profile()), now=NOW))
    assert not verdict.verified and any("could not be fetched" in r for r in verdict.reasons)
    verdict = asyncio.run(verify(web_signed(), now=NOW))
    assert not verdict.verified and any("no resolver" in r for r in verdict.reasons)


# --- command line ------------------------------------------------------------------------

def test_cli_verifies_the_w3c_example_with_its_key() -> None:
    key = vector("keyPair.json")["publicKeyMultibase"]
    done = cli("vc", "verify", str(VECTORS / "signed.json"), "--key", key)
    out = json.loads(done.stdout)
    assert done.returncode == 0 and out["verified"] is True and out["reasons"] == []


def test_cli_fails_a_tampered_credential_with_reasons(tmp_path: Path) -> None:
    tampered = vector("signed.json")
    tampered["credentialSubject"]["alumniOf"] = "Another School"
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(tampered))
    key = vector("keyPair.json")["publicKeyMultibase"]
    done = cli("vc", "verify", str(path), "--key", key, check=False)
    assert done.returncode != 0
    out = json.loads(done.stdout)
    assert out["verified"] is False and out["reasons"]
    bad = cli("vc", "verify", str(path), "--key", "zNotAKey", check=False)
    assert bad.returncode != 0 and "error:" in bad.stderr and "Traceback" not in bad.stderr


def test_an_open_badge_round_trips() -> None:
    pub = public_key(SEED)
    badge = {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
        "id": "urn:uuid:5c1b1d0a-6a43-4d67-9a4b-3c1e8b0e7f11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": did_key(pub), "type": ["Profile"], "name": "A community"},
        "validFrom": "2025-01-01T00:00:00Z",
        "name": "Mentor",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {"id": "https://community.example/achievements/mentor",
                            "type": ["Achievement"], "name": "Mentor",
                            "description": "Mentored newcomers",
                            "criteria": {"narrative": "Mentored three newcomers."}},
        },
    }
    signed = sign(badge, private_key=SEED, verification_method=did_key_vm(pub))
    assert asyncio.run(verify(signed, now=NOW)).verified
    signed["credentialSubject"]["achievement"]["name"] = "Maintainer"
    assert not asyncio.run(verify(signed, now=NOW)).verified


def test_cli_sign_refuses_an_undefined_term_before_touching_a_pod(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(v1_credential(nickname="Bobby")))
    done = cli("vc", "sign", str(path), "--pod", "nobody", data_dir=tmp_path / "data",
               check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "the term 'nickname' is not defined by any @context" in done.stderr
    assert not (tmp_path / "data").exists()
