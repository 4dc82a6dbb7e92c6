"""Per-pod Ed25519 signing keys for statements, sealed as system records.

A pod's key is made on first use, inside one write transaction that checks again for a key
made meanwhile, and kept as the system record ``vc-key:{pod}`` together with the pod's id, so
a pod deleted and created again under the same name never inherits the old key. Its public
half is published in the owner's WebID profile as a Multikey verification method (see
:func:`~apps.sdk.statements.profiles.profile_insert`, which the SDK uses too), which is how
verifiers find it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from nacl.signing import SigningKey

from apps.sdk.statements.multikey import (
    decode_private_key,
    private_key_multibase,
    public_key_multibase,
)
from apps.sdk.statements.profiles import KEY_FRAGMENT, key_id, profile_insert
from pod.store.system import SystemRecords, dump

__all__ = ["KEY_FRAGMENT", "PodKey", "key_id", "pod_key", "profile_insert", "record_name"]


@dataclass(frozen=True)
class PodKey:
    """A pod's statement signing key."""

    seed: bytes
    #: ``z6Mk…``, the Multikey encoding of the public key
    public_multibase: str
    #: whether this call made the key
    created: bool = False


def record_name(pod: str) -> str:
    return f"vc-key:{pod}"


def _open(data: bytes, pod_id: bytes) -> bytes | None:
    """The seed in a key record, or ``None`` when it belongs to an earlier pod of that name."""
    value = json.loads(data)
    if value.get("pod_id") != pod_id.hex():
        return None
    return decode_private_key(value["secretKeyMultibase"])


def _key(seed: bytes, created: bool) -> PodKey:
    return PodKey(seed, public_key_multibase(bytes(SigningKey(seed).verify_key)), created)


async def pod_key(system: SystemRecords, pod: str, pod_id: bytes) -> PodKey:
    """The signing key of pod ``pod`` (whose store id is ``pod_id``), made on first use."""
    name = record_name(pod)
    found = await system.get(name)
    if found is not None and (seed := _open(found.data, pod_id)) is not None:
        return _key(seed, False)
    async with system.write() as tx:
        found = await tx.get(name)  # another process may have made it meanwhile
        if found is not None and (seed := _open(found.data, pod_id)) is not None:
            return _key(seed, False)
        seed = bytes(SigningKey.generate())
        await tx.put(name, dump({"pod_id": pod_id.hex(),
                                 "secretKeyMultibase": private_key_multibase(seed)}))
    return _key(seed, True)
