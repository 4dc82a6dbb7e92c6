"""Issue and verify W3C VC 2.0 credentials secured with ``eddsa-rdfc-2022`` Data Integrity
proofs (VC Data Integrity 1.0 §4.2–§4.3, vc-di-eddsa §3.3).

Verification resolves the proof's verification method from its controller's document through
a caller-supplied async ``resolve(url) -> dict`` (the server passes its guarded fetcher;
``did:key`` is resolved locally), and checks, in order: that the credential canonicalises in
safe mode (no term or IRI the signature could not cover), the proof's form, that the key is a
Multikey controlled by the issuer and authorised for the proof purpose, the signature, and
the credential's validity period. Every failure is explained in words.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nacl.signing import SigningKey

from pod.statements import cryptosuite as suite
from pod.statements.multikey import (
    DID_KEY,
    KeyFormatError,
    decode_multibase,
    decode_public_key,
    encode_multibase,
    resolve_did_key,
)

Resolver = Callable[[str], Awaitable[dict[str, Any]]]


@dataclass
class Verdict:
    """The outcome of a verification: ``verified`` and, when it is false, why."""

    verified: bool
    reasons: list[str] = field(default_factory=list)
    #: what was not checked, e.g. the issuer's control of a key the caller supplied
    warnings: list[str] = field(default_factory=list)
    issuer: str | None = None
    verification_method: str | None = None

    def __bool__(self) -> bool:
        return self.verified


class ResolutionError(Exception):
    """The verification method or its controller document could not be obtained."""


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def sign(credential: dict[str, Any], *, private_key: bytes, verification_method: str,
         created: str | None = None, proof_purpose: str = "assertionMethod") -> dict[str, Any]:
    """A copy of ``credential`` with an ``eddsa-rdfc-2022`` proof (vc-di-eddsa §3.3.1) by the
    Ed25519 key whose 32-byte seed is ``private_key``; ``created`` defaults to now (UTC,
    seconds). ``TransformError`` when the credential cannot be canonicalised in safe mode,
    e.g. a property no ``@context`` defines."""
    if len(private_key) != 32:
        raise KeyFormatError("an Ed25519 private key (seed) has 32 bytes")
    if "proof" in credential:
        raise ValueError("the credential already has a proof")
    if "@context" not in credential:
        raise ValueError("the credential has no @context")
    options = {"type": suite.PROOF_TYPE, "cryptosuite": suite.CRYPTOSUITE,
               "created": created or _now(), "verificationMethod": verification_method,
               "proofPurpose": proof_purpose}
    document = suite.canonicalize(credential)  # safe mode: names what could not be signed
    config = suite.proof_configuration(options, credential["@context"])
    signature = suite.sign_bytes(suite.hash_data(config, document), private_key)
    secured = copy.deepcopy(credential)
    secured["proof"] = {**options, "proofValue": encode_multibase(signature)}
    return secured


def public_key(private_key: bytes) -> bytes:
    """The Ed25519 public key of a 32-byte seed."""
    return bytes(SigningKey(private_key).verify_key)


# --- verification ------------------------------------------------------------------------

def _id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _nodes(doc: Any) -> list[dict[str, Any]]:
    """Every JSON object in a document (the document itself, ``@graph`` members, embedded)."""
    found: list[dict[str, Any]] = []
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(v for k, v in item.items() if k != "@context")
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _node(doc: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    return next((n for n in _nodes(doc) if _id(n) == node_id), None)


def _has_type(node: dict[str, Any], name: str) -> bool:
    return name in _as_list(node.get("type", node.get("@type")))


async def _fetch(url: str, resolve: Resolver | None) -> dict[str, Any]:
    if url.startswith(DID_KEY):
        try:
            return resolve_did_key(url)
        except KeyFormatError as exc:
            raise ResolutionError(f"the did:key {url} cannot be resolved: {exc}") from None
    if resolve is None:
        raise ResolutionError(f"no resolver was given to fetch {url}, and only did:key is "
                              "resolved locally")
    try:
        doc = await resolve(url)
    except Exception as exc:  # the resolver's errors are the caller's; report them in words
        raise ResolutionError(f"the document {url} could not be fetched: {exc}") from None
    if not isinstance(doc, dict):
        raise ResolutionError(f"the document {url} is not a JSON object")
    return doc


async def _controlled_key(vm_url: str, issuer: str, purpose: str,
                          resolve: Resolver | None) -> bytes:
    """The public key of ``vm_url`` after checking that the issuer controls it and has
    authorised it for ``purpose``; ``ResolutionError`` says what is wrong."""
    doc_url = vm_url.split("#", 1)[0]
    doc = await _fetch(doc_url, resolve)
    vm = _node(doc, vm_url)
    if vm is None:
        raise ResolutionError(f"the verification method {vm_url} is not in its document "
                              f"{doc_url}")
    if not _has_type(vm, "Multikey"):
        raise ResolutionError(f"the verification method {vm_url} is not a Multikey")
    if _id(vm.get("controller")) != issuer:
        raise ResolutionError(f"the key {vm_url} is controlled by "
                              f"{_id(vm.get('controller')) or 'nobody'}, not by the issuer "
                              f"{issuer}")
    try:
        key = decode_public_key(vm.get("publicKeyMultibase", ""))
    except KeyFormatError as exc:
        raise ResolutionError(f"the key {vm_url} is unusable: {exc}") from None
    issuer_doc = doc if issuer.split("#", 1)[0] == doc_url else await _fetch(
        issuer.split("#", 1)[0], resolve)
    controller = _node(issuer_doc, issuer)
    if controller is None:
        raise ResolutionError(f"the issuer {issuer} is not described in its document")
    if vm_url not in {_id(m) for m in _as_list(controller.get(purpose))}:
        raise ResolutionError(f"the issuer {issuer} does not list the key {vm_url} as its "
                              f"{purpose}")
    return key


def _validity(credential: dict[str, Any], now: datetime) -> list[str]:
    reasons = []
    for start, end in (("validFrom", "validUntil"), ("issuanceDate", "expirationDate")):
        for name in (start, end):
            if name not in credential:
                continue
            try:
                when = suite.check_datetime(credential[name])
            except ValueError as exc:
                reasons.append(f"'{name}' is invalid: {exc}")
                continue
            if name == start and now < when:
                reasons.append(f"the credential is not valid before {credential[name]}")
            if name == end and now > when:
                reasons.append(f"the credential expired at {credential[name]}")
    return reasons


def _proof_form(proof: Any, context: Any, purpose: str) -> list[str]:
    if not isinstance(proof, dict):
        return ["the proof is not a JSON object"]
    reasons = []
    if proof.get("type") != suite.PROOF_TYPE:
        reasons.append(f"the proof type is {proof.get('type')!r}, not {suite.PROOF_TYPE!r}")
    if proof.get("cryptosuite") != suite.CRYPTOSUITE:
        reasons.append(f"the cryptosuite is {proof.get('cryptosuite')!r}, not "
                       f"{suite.CRYPTOSUITE!r}")
    if proof.get("proofPurpose") != purpose:
        reasons.append(f"the proof purpose is {proof.get('proofPurpose')!r}, not {purpose!r}")
    if not isinstance(proof.get("verificationMethod"), str):
        reasons.append("the proof names no verification method")
    if not isinstance(proof.get("proofValue"), str):
        reasons.append("the proof has no proofValue")
    if "@context" in proof:
        ctx, mine = _as_list(context), _as_list(proof["@context"])
        if ctx[:len(mine)] != mine:
            reasons.append("the proof's @context does not begin the credential's @context")
    return reasons


async def verify(credential: dict[str, Any], *, resolve: Resolver | None = None,
                 public_key_multibase: str | None = None, now: datetime | None = None,
                 proof_purpose: str = "assertionMethod") -> Verdict:
    """Verify a credential's ``eddsa-rdfc-2022`` proof(s) and its validity period.

    With ``public_key_multibase`` the signature is checked against that key and the issuer's
    control of it is not (a warning says so); otherwise the verification method is resolved
    (``did:key`` locally, anything else through ``resolve``).
    """
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if not isinstance(credential, dict):
        return Verdict(False, ["the credential is not a JSON object"])
    issuer = _id(credential.get("issuer"))
    verdict = Verdict(False, issuer=issuer)
    reasons = verdict.reasons
    proofs = _as_list(credential.get("proof"))
    if not proofs:
        reasons.append("the credential has no proof")
        return verdict
    if issuer is None:
        reasons.append("the credential names no issuer")
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    context = unsecured.get("@context")
    try:
        document = suite.canonicalize(unsecured)
    except suite.TransformError as exc:
        reasons.append(f"the credential cannot be canonicalised: {exc}")
        return verdict
    for proof in proofs:
        form = _proof_form(proof, context, proof_purpose)
        if form:
            reasons.extend(form)
            continue
        vm_url = proof["verificationMethod"]
        verdict.verification_method = vm_url
        try:
            config = suite.proof_configuration(proof, context)
            signature = decode_multibase(proof["proofValue"])
        except (suite.TransformError, KeyFormatError) as exc:
            reasons.append(f"the proof is malformed: {exc}")
            continue
        if len(signature) != 64:
            reasons.append("the proofValue is not a 64-byte Ed25519 signature")
            continue
        try:
            if public_key_multibase is not None:
                key = decode_public_key(public_key_multibase)
                verdict.warnings.append("the key was supplied by the caller: whether the issuer "
                                        "controls it was not checked")
            elif issuer is None:
                continue
            else:
                key = await _controlled_key(vm_url, issuer, proof_purpose, resolve)
        except (ResolutionError, KeyFormatError) as exc:
            reasons.append(str(exc))
            continue
        if not suite.verify_bytes(suite.hash_data(config, document), signature, key):
            reasons.append(f"the signature does not match the credential and proof options "
                           f"for the key {vm_url}: the credential or its proof was altered, "
                           "or it was signed with another key")
    reasons.extend(_validity(credential, now))
    verdict.verified = not reasons
    return verdict
