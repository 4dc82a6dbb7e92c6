"""Issue and verify W3C VC 2.0 credentials secured with ``eddsa-rdfc-2022`` Data Integrity
proofs (VC Data Integrity 1.0 §4.2–§4.3, vc-di-eddsa §3.3).

Verification resolves the proof's verification method from its controller's document through
a caller-supplied async ``resolve(url) -> dict`` (the server passes its guarded fetcher;
``did:key`` is resolved locally), and checks, in order: that the credential canonicalises in
safe mode (no term or IRI the signature could not cover), the proof's form, that the key is a
Multikey controlled by the issuer and authorised for the proof purpose, the signature, and
the credential's validity period, and — in :func:`verify` — its ``credentialStatus``
(Bitstring Status List, :mod:`apps.sdk.statements.status`): a revoked credential does not
verify. Every failure is explained in words.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nacl.signing import SigningKey

from apps.sdk.statements import cryptosuite as suite
from apps.sdk.statements.multikey import (
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
    #: the credential's status list bits by purpose (``{"revocation": True}``: revoked)
    status: dict[str, bool] = field(default_factory=dict)

    @property
    def revoked(self) -> bool:
        """Whether its issuer revoked it (its revocation bit is set)."""
        return self.status.get("revocation", False)

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
    if isinstance(value, dict) and isinstance(found := value.get("id"), str):
        return found
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


@dataclass
class ProofCheck:
    """One proof, transformed: what is left to check needs the key (found on the network)."""

    verification_method: str | None = None
    data: bytes = b""  # the hash data the signature covers (vc-di-eddsa §3.3.4)
    signature: bytes = b""
    reasons: list[str] = field(default_factory=list)  # what is wrong with its form already


@dataclass
class Prepared:
    """A credential after the costly, pure part of verification (JSON-LD expansion and
    RDFC-1.0 canonicalisation): small and picklable, so a worker process can make it."""

    issuer: str | None
    reasons: list[str] = field(default_factory=list)
    proofs: list[ProofCheck] = field(default_factory=list)
    validity: dict[str, Any] = field(default_factory=dict)
    #: its ``credentialStatus`` entries, checked by :func:`conclude` when asked to
    status: list[Any] = field(default_factory=list)
    final: bool = False  # a reason already decides it: no key needs resolving


VALIDITY = ("validFrom", "validUntil", "issuanceDate", "expirationDate")


def prepare(credential: Any, proof_purpose: str = "assertionMethod") -> Prepared:
    """Everything of :func:`verify` that needs no key: the credential's form, its canonical
    form in safe mode, each proof's form and the data its signature must cover."""
    if not isinstance(credential, dict):
        return Prepared(None, ["the credential is not a JSON object"], final=True)
    found = Prepared(_id(credential.get("issuer")),
                     validity={k: credential[k] for k in VALIDITY if k in credential},
                     status=_as_list(credential.get("credentialStatus")))
    proofs = _as_list(credential.get("proof"))
    if not proofs:
        found.reasons.append("the credential has no proof")
        found.final = True
        return found
    if found.issuer is None:
        found.reasons.append("the credential names no issuer")
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    context = unsecured.get("@context")
    try:
        document = suite.canonicalize(unsecured)
    except suite.TransformError as exc:
        found.reasons.append(f"the credential cannot be canonicalised: {exc}")
        found.final = True
        return found
    for proof in proofs:
        found.proofs.append(_prepare_proof(proof, context, proof_purpose, document))
    return found


def prepare_json(body: bytes, proof_purpose: str = "assertionMethod") -> Prepared:
    """:func:`prepare` for a credential still in its JSON bytes (a request body)."""
    try:
        credential = json.loads(body)
    except ValueError as exc:
        return Prepared(None, [f"the credential is not JSON: {exc}"], final=True)
    return prepare(credential, proof_purpose)


def _prepare_proof(proof: Any, context: Any, purpose: str, document: str) -> ProofCheck:
    form = _proof_form(proof, context, purpose)
    if form:
        return ProofCheck(reasons=form)
    check = ProofCheck(proof["verificationMethod"])
    try:
        config = suite.proof_configuration(proof, context)
        check.signature = decode_multibase(proof["proofValue"])
    except (suite.TransformError, KeyFormatError) as exc:
        check.reasons.append(f"the proof is malformed: {exc}")
        return check
    if len(check.signature) != 64:
        check.reasons.append("the proofValue is not a 64-byte Ed25519 signature")
        return check
    check.data = suite.hash_data(config, document)
    return check


async def conclude(prepared: Prepared, *, resolve: Resolver | None = None,
                   public_key_multibase: str | None = None, now: datetime | None = None,
                   proof_purpose: str = "assertionMethod", check_status: bool = False,
                   resolve_status: Resolver | None = None,
                   verify_list: Callable[[dict[str, Any]], Awaitable[Verdict]] | None = None
                   ) -> Verdict:
    """The rest of :func:`verify`: resolve each proof's key, check its signature and the
    credential's validity period, and with ``check_status`` its status list entries
    (``verify_list``, when given, verifies each status list credential: see
    :func:`~apps.sdk.statements.status.check_status`)."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    verdict = Verdict(False, list(prepared.reasons), issuer=prepared.issuer)
    if prepared.final:
        return verdict
    reasons, issuer = verdict.reasons, prepared.issuer
    for proof in prepared.proofs:
        if proof.verification_method is not None:
            verdict.verification_method = proof.verification_method
        if proof.reasons:
            reasons.extend(proof.reasons)
            continue
        vm_url = proof.verification_method
        assert vm_url is not None
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
        if not suite.verify_bytes(proof.data, proof.signature, key):
            reasons.append(f"the signature does not match the credential and proof options "
                           f"for the key {vm_url}: the credential or its proof was altered, "
                           "or it was signed with another key")
    reasons.extend(_validity(prepared.validity, now))
    if check_status and prepared.status and not reasons:
        await _status(prepared, resolve, resolve_status, verdict, verify_list)
    verdict.verified = not reasons
    return verdict


async def _status(prepared: Prepared, resolve: Resolver | None, fetch: Resolver | None,
                  verdict: Verdict,
                  verify_list: Callable[[dict[str, Any]], Awaitable[Verdict]] | None) -> None:
    """Check the status list entries; a set bit, or one that cannot be checked, is a reason."""
    from apps.sdk.statements.status import check_status

    for found in await check_status({"issuer": prepared.issuer,
                                     "credentialStatus": prepared.status}, resolve, fetch,
                                    verify_list=verify_list):
        if found.set is None:
            verdict.reasons.append(f"its {found.purpose} status could not be checked: "
                                   f"{found.reason}")
            continue
        verdict.status[found.purpose] = found.set
        if found.set:
            verdict.reasons.append(f"the issuer has {_PAST.get(found.purpose, 'flagged')} "
                                   f"the credential (its {found.purpose} status is set)")


_PAST = {"revocation": "revoked", "suspension": "suspended"}


async def verify(credential: dict[str, Any], *, resolve: Resolver | None = None,
                 public_key_multibase: str | None = None, now: datetime | None = None,
                 proof_purpose: str = "assertionMethod", check_status: bool = True,
                 resolve_status: Resolver | None = None) -> Verdict:
    """Verify a credential's ``eddsa-rdfc-2022`` proof(s) and its validity period.

    With ``public_key_multibase`` the signature is checked against that key and the issuer's
    control of it is not (a warning says so); otherwise the verification method is resolved
    (``did:key`` locally, anything else through ``resolve``). The work is split in two —
    :func:`prepare` (pure, costly) and :func:`conclude` (the keys) — so a server can run the
    first in a worker process.

    A credential with a ``credentialStatus`` (Bitstring Status List) is checked against its
    issuer's status list, fetched through ``resolve``: revoked or suspended, or a list that
    cannot be fetched or verified, and it does not verify (``Verdict.revoked`` says which);
    ``resolve_status``, when given, fetches the list credential instead (a resolver that
    prefers JSON where ``resolve`` prefers Turtle profiles); ``check_status=False`` skips the
    check (the server's check of a write does).
    """
    return await conclude(prepare(credential, proof_purpose), resolve=resolve,
                          public_key_multibase=public_key_multibase, now=now,
                          proof_purpose=proof_purpose, check_status=check_status,
                          resolve_status=resolve_status)
