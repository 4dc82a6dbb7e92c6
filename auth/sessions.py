"""Browser sessions: a random 32-byte token, which the browser holds in the ``cp_session``
cookie (:mod:`auth.http.cookies`).

The server keeps only a SHA-256 of the token, as the sealed system record
``session:{digest}`` (account, its uid and session epoch, created, expires), plus a per-account
index ``sessions:NAME`` so that every session of an account can be ended and expired ones are
pruned (a blinded store cannot be scanned). A session is valid while unexpired and while its
account's session epoch is the one it was started under.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from auth.accounts import Account, load_account
from pod.store.sealed import SealedTransaction
from pod.store.system import SystemRecords, dump

LIFETIME = 14 * 24 * 3600
MAX_PER_ACCOUNT = 50
TOKEN_BYTES = 32


@dataclass(frozen=True)
class Session:
    """A live session: ``digest`` (SHA-256 of its token, hex) names it."""

    digest: str
    account: Account
    expires: int


def digest_of(token: str) -> str | None:
    """The SHA-256 (hex) of a cookie token, or ``None`` if it is not a well-formed token."""
    if len(token) != 43:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=")
    except (binascii.Error, ValueError):
        return None
    return hashlib.sha256(raw).hexdigest() if len(raw) == TOKEN_BYTES else None


async def _index(tx: SealedTransaction, name: str) -> dict[str, int]:
    opened = await tx.get(f"sessions:{name}")
    return {k: int(v) for k, v in json.loads(opened.data).items()} if opened else {}


class Sessions:
    """Starts, finds and ends sessions."""

    def __init__(self, system: SystemRecords):
        self._system = system

    async def start(self, account: Account) -> tuple[str, Session]:
        """A new session for ``account``: the cookie token (shown once) and the session."""
        raw = secrets.token_bytes(TOKEN_BYTES)
        token = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        digest = hashlib.sha256(raw).hexdigest()
        now = int(time.time())
        record = {"account": account.name, "uid": account.uid, "epoch": account.epoch,
                  "created": now, "expires": now + LIFETIME}
        async with self._system.write() as tx:
            index = await _index(tx, account.name)
            live = sorted((e, d) for d, e in index.items() if e > now)
            stale = [d for d, e in index.items() if e <= now]
            while len(live) >= MAX_PER_ACCOUNT:  # the oldest sessions make room
                stale.append(live.pop(0)[1])
            for old in stale:
                await tx.delete(f"session:{old}")
            index = {d: e for e, d in live}
            index[digest] = now + LIFETIME
            await tx.put(f"session:{digest}", dump(record))
            await tx.put(f"sessions:{account.name}", dump(index))
        return token, Session(digest, account, now + LIFETIME)

    async def find(self, token: str | None) -> Session | None:
        """The live session of a cookie token, or ``None``."""
        digest = digest_of(token) if token else None
        if digest is None:
            return None
        record: dict[str, Any] | None = await self._system.get_json(f"session:{digest}")
        if record is None:
            return None
        account = await load_account(self._system, record["account"])
        if (record["expires"] <= time.time() or account is None
                or account.uid != record["uid"] or account.epoch != record["epoch"]):
            await self._forget(record["account"], [digest])
            return None
        return Session(digest, account, int(record["expires"]))

    async def end(self, session: Session) -> None:
        await self._forget(session.account.name, [session.digest])

    async def end_all(self, name: str) -> None:
        """End every session of account ``name``."""
        async with self._system.write() as tx:
            await drop_account(tx, name)

    async def _forget(self, name: str, digests: list[str]) -> None:
        async with self._system.write() as tx:
            index = await _index(tx, name)
            for digest in digests:
                await tx.delete(f"session:{digest}")
                index.pop(digest, None)
            if index:
                await tx.put(f"sessions:{name}", dump(index))
            else:
                await tx.delete(f"sessions:{name}")


async def drop_account(tx: SealedTransaction, name: str) -> int:
    """Delete every session of account ``name`` and its index, in ``tx``; how many."""
    digests = await _index(tx, name)
    for digest in digests:
        await tx.delete(f"session:{digest}")
    await tx.delete(f"sessions:{name}")
    return len(digests)

