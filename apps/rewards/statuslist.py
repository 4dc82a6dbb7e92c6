"""The community's revocation list: a ``BitstringStatusListCredential`` at
``rewards-app/status/1`` in its pod, readable by everyone, signed with the community's key,
whose set bits are exactly the ledger's revoked entries (so it can always be rebuilt from
the ledger)."""

from __future__ import annotations

from datetime import UTC, datetime

from apps.rewards.ledger import FOLDER
from apps.sdk import NotFound, PodClient
from apps.sdk.consent import public_read_acl
from apps.sdk.statements import sign
from apps.sdk.statements.status import StatusList, StatusListError, status_list_credential


def list_url(pod: str) -> str:
    return pod + FOLDER + "status/1"


async def published_bits(client: PodClient, pod: str) -> set[int] | None:
    """The set bits of the published list, or ``None`` when there is none (or it is unusable)."""
    try:
        got = await client.get(list_url(pod), accept="application/ld+json")
        subject = got.json().get("credentialSubject", {})
        bits = StatusList.decode(subject.get("encodedList", ""))
    except (NotFound, ValueError, StatusListError, AttributeError):
        return None
    return {i for i in range(bits.size) if bits[i]}


async def publish(client: PodClient, pod: str, *, issuer: str, seed: bytes, vm: str,
                  revoked: set[int]) -> None:
    """Sign and store the list with ``revoked`` set, readable by everyone."""
    bits = StatusList()
    for index in revoked:
        bits[index] = True
    url = list_url(pod)
    credential = sign(status_list_credential(
        list_id=url, issuer=issuer, status_list=bits,
        valid_from=datetime.now(UTC).replace(microsecond=0)), private_key=seed,
        verification_method=vm)
    stored = await client.put(url, credential, content_type="application/ld+json")
    acl = stored.links.get("acl", [url + ".acl"])[0]
    await client.put(acl, public_read_acl(url, issuer), content_type="text/turtle")


async def ensure(client: PodClient, pod: str, *, issuer: str, seed: bytes, vm: str,
                 revoked: set[int]) -> None:
    """Publish the list unless the published one already says exactly ``revoked``."""
    if await published_bits(client, pod) != revoked:
        await publish(client, pod, issuer=issuer, seed=seed, vm=vm, revoked=revoked)
