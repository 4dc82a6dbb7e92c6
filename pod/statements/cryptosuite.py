"""The ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa §3.3): transformation, proof
configuration, hashing and the Ed25519 signature.

Transformation is JSON-LD → RDF → RDFC-1.0 canonical N-Quads (pyld's URDNA2015, which RDFC-1.0
standardised unchanged), with only the bundled contexts: a context that is not bundled is an
error, never a fetch.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from pyld import jsonld

from vocab.contexts import UnknownContext, document_loader

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


class TransformError(ValueError):
    """A document that cannot be canonicalised; the message says why."""


def _unknown_context(exc: BaseException) -> UnknownContext | None:
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:  # pyld wraps loader errors in JsonLdError, sometimes several deep
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, UnknownContext):
            return e
        stack += [getattr(e, "cause", None), e.__cause__, e.__context__]
        details = getattr(e, "details", None)
        if isinstance(details, dict):
            stack.append(details.get("cause"))
    return None


def canonicalize(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document (bundled contexts only)."""
    try:
        return jsonld.normalize(document, {"algorithm": "URDNA2015",
                                           "format": "application/n-quads",
                                           "documentLoader": document_loader})
    except Exception as exc:  # pyld raises JsonLdError and, on bad input, plain errors
        unknown = _unknown_context(exc)
        if unknown is not None:
            raise TransformError(str(unknown)) from None
        raise TransformError(f"the document is not valid JSON-LD: {exc}") from None


def check_datetime(value: object) -> datetime:
    """An XML Schema dateTime with a time zone, as an aware datetime."""
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(f"{value!r} is not an XML Schema dateTime")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an XML Schema dateTime") from None
    if when.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return when


def proof_configuration(options: dict[str, Any], context: Any) -> str:
    """Canonical proof configuration (vc-di-eddsa §3.3.5): the proof options without
    ``proofValue``, under the document's ``@context``."""
    config = {k: v for k, v in options.items() if k != "proofValue"}
    if config.get("type") != PROOF_TYPE or config.get("cryptosuite") != CRYPTOSUITE:
        raise TransformError(f"the proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if "created" in config:
        try:
            check_datetime(config["created"])
        except ValueError as exc:
            raise TransformError(f"the proof's 'created' is invalid: {exc}") from None
    config["@context"] = context
    return canonicalize(config)


def hash_data(canonical_config: str, canonical_document: str) -> bytes:
    """SHA-256(proof configuration) ‖ SHA-256(document) (vc-di-eddsa §3.3.4)."""
    return (hashlib.sha256(canonical_config.encode("utf-8")).digest()
            + hashlib.sha256(canonical_document.encode("utf-8")).digest())


def sign_bytes(data: bytes, seed: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``data`` by the key with this 32-byte seed."""
    return SigningKey(seed).sign(data).signature


def verify_bytes(data: bytes, signature: bytes, public_key: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``data`` by ``public_key``."""
    try:
        VerifyKey(public_key).verify(data, signature)
    except (BadSignatureError, ValueError):
        return False
    return True
