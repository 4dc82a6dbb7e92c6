"""Publishing an issuer's statement key in its WebID profile, so verifiers find it
(docs/statements.md "Publishing the key"; Controlled Identifiers 1.0 §2.2).

The key becomes a Multikey controlled by the WebID and listed as its ``assertionMethod``, added
with an N3 Patch by the profile's owner — what ``commonpod vc sign`` does for a pod's own key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.sdk.statements.credentials import public_key
from apps.sdk.statements.multikey import public_key_multibase
from apps.sdk.statements.profiles import (
    TURTLE_TYPES,
    controller_document,
    key_id,
    lists_key,
    profile_insert,
)

if TYPE_CHECKING:
    from apps.sdk.client import PodClient


async def publish_key(client: PodClient, webid: str, private_key: bytes) -> str:
    """Publish the public half of the Ed25519 key whose 32-byte seed is ``private_key`` in
    ``webid``'s profile (``client`` must be signed in as the WebID's owner), unless it is
    there already. Returns the verification method to sign with (``…/card#vc-key-1``).
    ``ValueError`` when the profile already names another key there: replacing it would make
    every statement signed with it fail to verify, so that is left to a person."""
    document = webid.split("#", 1)[0]
    multibase = public_key_multibase(public_key(private_key))
    vm = key_id(webid)
    got = await client.get(document, accept="text/turtle")
    if got.content_type not in TURTLE_TYPES:
        raise ValueError(f"{document} is not a Turtle WebID profile")
    if lists_key(got.body, document, webid, vm, multibase):
        return vm
    listed = controller_document(got.body, document)["verificationMethod"]
    if any(m["id"] == vm for m in listed):
        raise ValueError(f"{document} already lists another key as {vm}")
    await client.patch(document, profile_insert(webid, multibase), if_match=got.etag)
    return vm
