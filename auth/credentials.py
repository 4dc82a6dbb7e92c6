"""Client credentials: named secrets an account owner gives a script or server so that it can
act as the owner's WebID through the ``client_credentials`` grant (the flow
``@inrupt/solid-client-authn-node`` uses with the Community Solid Server).

Stored as sealed system records: ``credential:{client_id}`` (owner, its uid, WebID, label, a
SHA-256 of the secret — the secret itself is shown once and never stored) and
``credentials:{account}`` (the owner's list). Secrets are 256 random bits, so a plain hash
suffices; comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from pod.store.sealed import SealedTransaction
from pod.store.system import SystemRecords, dump

ID_PREFIX = "cred_"
MAX_LABEL = 100


@dataclass(frozen=True)
class Credential:
    """A client credential as stored (without its secret)."""

    client_id: str
    account: str
    webid: str
    label: str
    created: float
    secret_sha256: str
    uid: str = ""  # the account's uid: a later account of the same name never honours it

    def check_secret(self, secret: str) -> bool:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return hmac.compare_digest(digest, self.secret_sha256)

    def public(self) -> dict[str, object]:
        """What the owner may see again: everything but the secret's hash."""
        return {"client_id": self.client_id, "label": self.label, "webid": self.webid,
                "created": self.created}


class Credentials:
    """Create, list, find and revoke client credentials."""

    def __init__(self, system: SystemRecords):
        self._system = system

    async def create(self, account: str, webid: str, label: str, *,
                     uid: str) -> tuple[Credential, str]:
        """A new credential for ``account`` (whose uid is ``uid``) and its one-time secret."""
        label = " ".join(label.split())[:MAX_LABEL] or "credential"
        client_id = ID_PREFIX + secrets.token_urlsafe(18)
        secret = secrets.token_urlsafe(32)
        cred = Credential(client_id, account, webid, label, time.time(),
                          hashlib.sha256(secret.encode()).hexdigest(), uid)
        async with self._system.write() as tx:
            await tx.put(f"credential:{client_id}", dump(cred.__dict__))
            listed = await tx.get(f"credentials:{account}")
            ids = json.loads(listed.data) if listed else []
            await tx.put(f"credentials:{account}", dump([*ids, client_id]))
        return cred, secret

    async def find(self, client_id: str) -> Credential | None:
        if not client_id.startswith(ID_PREFIX):
            return None
        data = await self._system.get_json(f"credential:{client_id}")
        return Credential(**data) if data else None

    async def list(self, account: str) -> list[Credential]:
        ids = await self._system.get_json(f"credentials:{account}") or []
        found = [await self.find(i) for i in ids]
        return [c for c in found if c is not None]

    async def revoke(self, account: str, client_id: str) -> bool:
        """Delete one of ``account``'s credentials; ``False`` if it has no such credential."""
        async with self._system.write() as tx:
            listed = await tx.get(f"credentials:{account}")
            ids = json.loads(listed.data) if listed else []
            if client_id not in ids:
                return False
            await tx.delete(f"credential:{client_id}")
            await tx.put(f"credentials:{account}", dump([i for i in ids if i != client_id]))
        return True


async def drop_account(tx: SealedTransaction, account: str) -> int:
    """Delete every credential of ``account`` and its list, in ``tx``; how many."""
    listed = await tx.get(f"credentials:{account}")
    ids = json.loads(listed.data) if listed else []
    for client_id in ids:
        await tx.delete(f"credential:{client_id}")
    await tx.delete(f"credentials:{account}")
    return len(ids)
