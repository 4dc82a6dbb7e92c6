"""Per-pod Ed25519 signing keys for statements, sealed as system records.

A pod's key is made on first use, inside one write transaction that checks again for a key
made meanwhile, and kept as the system record ``vc-key:{pod}`` together with the pod's id, so
a pod deleted and created again under the same name never inherits the old key. Its public
half is published in the owner's WebID profile as a Multikey verification method (see
:func:`profile_insert`), which is how verifiers find it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from nacl.signing import SigningKey

from pod.statements.multikey import (
    decode_private_key,
    private_key_multibase,
    public_key_multibase,
)
from pod.store.system import SystemRecords, dump

SEC = "https://w3id.org/security#"
KEY_FRAGMENT = "vc-key-1"


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


def key_id(webid: str) -> str:
    """The IRI of a pod's statement key: a fragment of the WebID profile document."""
    return f"{webid.split('#', 1)[0]}#{KEY_FRAGMENT}"


def profile_insert(webid: str, public_multibase: str) -> str:
    """An N3 Patch (Solid Protocol §5.3.1) adding the key to the WebID profile: a Multikey
    controlled by the WebID and listed as its ``assertionMethod``."""
    vm = key_id(webid)
    return (f"@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            f"@prefix sec: <{SEC}>.\n"
            f"_:patch a solid:InsertDeletePatch; solid:inserts {{\n"
            f"  <{vm}> a sec:Multikey; sec:controller <{webid}>;\n"
            f"    sec:publicKeyMultibase \"{public_multibase}\".\n"
            f"  <{webid}> sec:assertionMethod <{vm}>.\n"
            f"}}.\n")
