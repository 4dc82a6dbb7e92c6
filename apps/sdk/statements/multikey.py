"""Ed25519 keys as Multikey values and ``did:key`` identifiers, resolved locally.

A Multikey ``publicKeyMultibase`` is the multicodec prefix ``0xed01`` followed by the 32-byte
public key, base58btc-encoded with the multibase prefix ``z`` (Controlled Identifiers 1.0
§2.2.2; vc-di-eddsa §2.1.1). A private key is ``0x8026`` + the 32-byte seed.
"""

from __future__ import annotations

from typing import Any

import base58

from vocab.contexts import DID_V1, MULTIKEY_V1

ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
DID_KEY = "did:key:"


class KeyFormatError(ValueError):
    """A key or multibase value that is not what it claims to be."""


def encode_multibase(data: bytes) -> str:
    """``z`` + base58btc(data)."""
    return "z" + base58.b58encode(data).decode("ascii")


def decode_multibase(value: str) -> bytes:
    """The bytes of a base58btc multibase value; anything else is refused."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise KeyFormatError("a multibase value must be base58btc, starting with 'z'")
    try:
        return base58.b58decode(value[1:])
    except ValueError:
        raise KeyFormatError("the multibase value is not valid base58btc") from None


def public_key_multibase(public_key: bytes) -> str:
    """The Multikey encoding of a 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise KeyFormatError("an Ed25519 public key has 32 bytes")
    return encode_multibase(ED25519_PUB + public_key)


def decode_public_key(multibase: str) -> bytes:
    """The 32-byte Ed25519 public key of a Multikey ``publicKeyMultibase``."""
    raw = decode_multibase(multibase)
    if raw[:2] != ED25519_PUB:
        raise KeyFormatError("the key is not an Ed25519 public key (multicodec 0xed01)")
    if len(raw) != 34:
        raise KeyFormatError("an Ed25519 Multikey holds exactly 32 key bytes")
    return raw[2:]


def private_key_multibase(seed: bytes) -> str:
    """The Multikey encoding of a 32-byte Ed25519 private key (seed)."""
    if len(seed) != 32:
        raise KeyFormatError("an Ed25519 private key (seed) has 32 bytes")
    return encode_multibase(ED25519_PRIV + seed)


def decode_private_key(multibase: str) -> bytes:
    """The 32-byte Ed25519 seed of a Multikey ``secretKeyMultibase``."""
    raw = decode_multibase(multibase)
    if raw[:2] != ED25519_PRIV or len(raw) != 34:
        raise KeyFormatError("the key is not an Ed25519 private key (multicodec 0x8026)")
    return raw[2:]


def did_key(public_key: bytes) -> str:
    """The ``did:key`` DID of an Ed25519 public key."""
    return DID_KEY + public_key_multibase(public_key)


def did_key_vm(public_key: bytes) -> str:
    """The verification method URL of a ``did:key`` DID (its only key)."""
    mb = public_key_multibase(public_key)
    return f"{DID_KEY}{mb}#{mb}"


def resolve_did_key(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 ``did:key``, built locally (did:key method §3.1.3)."""
    did = did.split("#", 1)[0]
    if not did.startswith(DID_KEY):
        raise KeyFormatError(f"{did} is not a did:key")
    mb = did.removeprefix(DID_KEY)
    decode_public_key(mb)  # only Ed25519 keys are supported
    vm = f"{did}#{mb}"
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": [{"id": vm, "type": "Multikey", "controller": did,
                                "publicKeyMultibase": mb}],
        "authentication": [vm],
        "assertionMethod": [vm],
        "capabilityDelegation": [vm],
        "capabilityInvocation": [vm],
    }
