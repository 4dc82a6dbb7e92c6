"""Helpers for the reputation tests: accounts made in-process with the server's own code before
it starts (a CLI call per account would take a second each), the app as a real process
(``python -m apps.reputation``), and members' own writes through the SDK."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from apps.sdk import Appreciation, Contribution, Effort, PodClient, client_credentials
from apps.sdk.statements import did_key, did_key_vm, public_key, sign
from tests.shared_view import PASSWORD, App

T = TypeVar("T")
OBV3 = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"


def provision(data: Path, names: list[str]) -> dict[str, dict[str, str]]:
    """Accounts (password :data:`PASSWORD`) with pods and client credentials, by name, made
    with the server's own code in its (not yet started) data directory."""
    from auth.accounts import Accounts
    from auth.credentials import Credentials
    from auth.passwords import Passwords
    from pod.cli.common import settings_of
    from pod.runtime import open_runtime

    settings = settings_of(argparse.Namespace(data_dir=data))

    async def run() -> dict[str, dict[str, str]]:
        rt = await open_runtime(settings)
        try:
            accounts = Accounts(rt.system, rt.pods, rt.resources, Passwords(concurrency=2))
            creds = Credentials(rt.system)
            made = {}
            for name in names:
                account = await accounts.create(name, PASSWORD)
                cred, secret = await creds.create(name, account.webid, "test", uid=account.uid)
                made[name] = {"webid": account.webid, "pod": account.pod,
                              "issuer": settings.base_url, "client_id": cred.client_id,
                              "client_secret": secret}
            return made
        finally:
            await rt.close()

    return asyncio.run(run())


def as_owner(who: dict[str, str], work: Callable[[PodClient], Awaitable[T]]) -> T:
    """``work(client)`` signed in as ``who`` with their own credential."""
    async def run() -> T:
        session = await client_credentials(who["issuer"], who["client_id"],
                                           who["client_secret"])
        async with PodClient(session) as pod:
            return await work(pod)

    return asyncio.run(run())


def contribution(who: dict[str, str], slug: str, kind: str, hours: int | None = None) -> str:
    """``who`` records a contribution of ``kind``, dated thirty days ago (within every badge's
    window), in their pod; its IRI."""
    url = who["pod"] + f"contributions/{slug}"
    when = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)

    async def put(pod: PodClient) -> None:
        await pod.put(url, Contribution(
            provider=who["webid"], name=slug, in_scope_of=("https://repair.example/#cafe",),
            kinds=(kind,), when=when,
            effort=Effort(hours) if hours else None, id=url + "#it"))

    as_owner(who, put)
    return url + "#it"


def appreciate(who: dict[str, str], slug: str, of: str) -> str:
    """``who`` thanks the contribution ``of``; the appreciation's IRI."""
    url = who["pod"] + f"appreciations/{slug}"

    async def put(pod: PodClient) -> None:
        await pod.put(url, Appreciation(appreciation_of=of, description="Thank you!",
                                        id=url + "#it"))

    as_owner(who, put)
    return url + "#it"


def endorse(who: dict[str, str], of: str, seed: bytes) -> str:
    """``who`` registers ``endorsements/`` for endorsements and stores a signed
    EndorsementCredential (a ``did:key`` issuer) of the member ``of``; its id."""
    ident = f"urn:uuid:{uuid.uuid4()}"
    issuer = did_key(public_key(seed))
    credential = sign({
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": ident, "type": ["VerifiableCredential", "EndorsementCredential"],
        "issuer": {"id": issuer, "type": ["Profile"]}, "validFrom": "2026-05-01T00:00:00Z",
        "name": "An endorsement",
        "credentialSubject": {"id": of, "type": ["EndorsementSubject"],
                              "endorsementComment": "Always there when it matters."}},
        private_key=seed, verification_method=did_key_vm(public_key(seed)))

    async def put(pod: PodClient) -> None:
        index = who["pod"] + "settings/privateTypeIndex.ttl"
        await pod.patch(index, (
            "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            "_:p a solid:InsertDeletePatch; solid:inserts {\n"
            f"  <#endorsements> a solid:TypeRegistration; solid:forClass <{OBV3}"
            f"EndorsementCredential>; solid:instanceContainer <{who['pod']}endorsements/>. }}.\n"))
        await pod.put(who["pod"] + "endorsements/e1", credential)

    as_owner(who, put)
    return ident


def statements_of(who: dict[str, str]) -> list[dict[str, Any]]:
    """The reputation statements in ``who``'s ``reputation/``, read by its owner, oldest
    first."""
    async def read(pod: PodClient) -> list[dict[str, Any]]:
        found = await pod.collect(who["pod"], "cp:ReputationStatement")
        docs = [(await pod.get(d, accept="application/ld+json")).json()
                for d in found.documents]
        return sorted(docs, key=lambda d: (d["validFrom"], "wasRevisionOf" in d))

    return as_owner(who, read)


@dataclass
class ReputationApp(App):
    """A ``python -m apps.reputation`` process for the community ``account``."""

    module = "apps.reputation"

    def options(self) -> list[str]:
        return ["--key-file", str(self.tmp / "statement.key"), "--run-every", "3600"]


def community_file(account: dict[str, str], path: str) -> str:
    """A document in the community's pod (``rules/v2.ttl``), read as the community ("" if
    none)."""
    from apps.sdk import NotFound

    async def read(pod: PodClient) -> str:
        try:
            return (await pod.get(account["pod"] + path, accept="text/turtle")).text
        except NotFound:
            return ""

    return as_owner(account, read)
