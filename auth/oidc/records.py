"""The provider's short-lived sealed records: codes, refresh tokens, pending authorizations.

Codes and refresh tokens are stored under the SHA-256 of their value (the value itself never);
a record is consumed with the version it was read at, so of two concurrent uses one fails.
A pending authorization request (what the consent page is about) is kept server-side under a
random id, for one use and a few minutes, bound to the browser session that saw the page.

Each account's codes, refresh tokens and pending requests are listed in the sealed index
``oidc-records:NAME`` (name → expiry; a blinded store cannot be scanned), kept in the same
transaction as the records, so that deleting the account deletes them all
(:func:`drop_account`). Consumed records leave the index; expired ones are pruned.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from typing import Any

from auth.oidc.grants import (
    CODE_RECORD,
    REFRESH_RECORD,
    Call,
    StoredCode,
    StoredRefresh,
    digest,
)
from pod.errors import VersionConflict
from pod.store.sealed import SealedTransaction
from pod.store.system import SystemRecords, dump

PENDING_RECORD = "oidc-pending:"
PENDING_LIFETIME = 600
ACCOUNT_INDEX = "oidc-records:"


async def _listed(tx: SealedTransaction, account: str) -> dict[str, float]:
    opened = await tx.get(ACCOUNT_INDEX + account)
    return {k: float(v) for k, v in json.loads(opened.data).items()} if opened else {}


async def _index(tx: SealedTransaction, account: str, added: dict[str, float],
                 removed: Iterable[str] = ()) -> None:
    """Note ``added`` records (name → expiry) under ``account`` and forget ``removed`` ones,
    pruning the expired."""
    now = time.time()
    listed = {k: e for k, e in (await _listed(tx, account)).items() if e > now}
    for name in removed:
        listed.pop(name, None)
    listed.update(added)
    if listed:
        await tx.put(ACCOUNT_INDEX + account, dump(listed))
    else:
        await tx.delete(ACCOUNT_INDEX + account)


async def drop_account(tx: SealedTransaction, account: str) -> int:
    """Delete every code, refresh token and pending request of ``account``, and its index;
    how many records were deleted."""
    deleted = 0
    for name in await _listed(tx, account):
        deleted += await tx.delete(name)
    await tx.delete(ACCOUNT_INDEX + account)
    return deleted


async def load_code(system: SystemRecords, code: str) -> StoredCode | None:
    name = CODE_RECORD + digest(code)
    opened = await system.get(name)
    return StoredCode(name, opened.version, **json.loads(opened.data)) if opened else None


async def load_refresh(system: SystemRecords, token: str) -> StoredRefresh | None:
    name = REFRESH_RECORD + digest(token)
    opened = await system.get(name)
    return StoredRefresh(name, opened.version, **json.loads(opened.data)) if opened else None


class _Consumed(Exception):
    """A record to consume was used meanwhile."""


async def commit(system: SystemRecords, call: Call) -> bool:
    """Store what authlib queued; ``False`` (nothing stored) if a consumed record was
    already used — a code or refresh token presented twice (RFC 6749 §4.1.2, §10.4)."""
    if not call.writes and not call.consume:
        return True
    try:
        async with system.write() as tx:
            for name, version in call.consume:
                if not await tx.delete(name, expect=version):
                    raise _Consumed
            for name, data in call.writes:
                await tx.put(name, data)
            if call.account:
                added = {name: float(json.loads(data)["expires"]) for name, data in call.writes}
                await _index(tx, call.account, added, (name for name, _ in call.consume))
    except (_Consumed, VersionConflict):
        return False
    return True


async def keep_pending(system: SystemRecords, params: dict[str, str], session: str,
                       shown: dict[str, Any] | None = None, *, account: str) -> str:
    """Keep an authorization request of ``account``'s browser for the consent form, with what
    the owner was shown (the app's needs as they were, so a changed Client ID Document cannot
    change what is granted); its id goes into the form."""
    pending_id = secrets.token_urlsafe(24)
    expires = time.time() + PENDING_LIFETIME
    record = {"params": params, "session": session, "shown": shown or {}, "account": account,
              "expires": expires}
    async with system.write() as tx:
        await tx.put(PENDING_RECORD + pending_id, dump(record))
        await _index(tx, account, {PENDING_RECORD + pending_id: expires})
    return pending_id


async def take_pending(system: SystemRecords, pending_id: str,
                       session: str) -> tuple[dict[str, str], dict[str, Any]] | None:
    """The parameters of a pending request of this session and what its owner was shown,
    removed (single use); ``None`` when unknown, used, expired or another session's."""
    if not pending_id or len(pending_id) > 64:
        return None
    name = PENDING_RECORD + pending_id
    async with system.write() as tx:
        opened = await tx.get(name)
        if opened is None:
            return None
        record: dict[str, Any] = json.loads(opened.data)
        if record["session"] != session:
            return None  # not consumed: it is not this browser's to spend
        await tx.delete(name)
        if record.get("account"):
            await _index(tx, record["account"], {}, (name,))
    if record["expires"] <= time.time():
        return None
    return record["params"], record.get("shown", {})
