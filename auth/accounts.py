"""Accounts: one per pod, named like it, with a WebID, a password hash and a session epoch.

Stored as the sealed system record ``account:NAME``, so the database reveals neither names nor
hashes. Creating the pod is what claims a name (the pod directory refuses a second pod of the
same name atomically), so an account record is written only by whoever created the pod.
Changing the password bumps the *session epoch*, which ends every session started before.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from auth.passwords import Passwords, check_new
from pod.resources.paths import check_pod_name
from pod.resources.provision import create_pod
from pod.resources.service import ResourceService
from pod.store.directory import PodDirectory, PodExists
from pod.store.system import SystemRecords, dump


class AccountError(ValueError):
    """A request about accounts that cannot be honoured; the message says why."""


class AccountExists(AccountError):
    """The name is taken (by an account or a pod)."""


@dataclass(frozen=True)
class Account:
    """An account as the rest of the server sees it (never its password hash).

    ``uid`` is random per account, so an account made later under a reused name never
    honours sessions of the earlier one."""

    name: str
    webid: str
    pod: str
    created: int
    epoch: int
    uid: str


WEBID_PATH = "/profile/card#me"


def record_name(name: str) -> str:
    return f"account:{name}"


def local_name(base_url: str, webid: str) -> str | None:
    """The account (and pod) name of a WebID of this server, ``{base}NAME/profile/card#me``;
    ``None`` for any other IRI."""
    if not webid.startswith(base_url) or not webid.endswith(WEBID_PATH):
        return None
    try:
        return check_pod_name(webid[len(base_url):-len(WEBID_PATH)])
    except ValueError:
        return None


async def instance_of(pods: PodDirectory, base_url: str, webid: str) -> str | None:
    """The instance of the pod behind a WebID of this server (what its tokens are bound to),
    or ``None`` when no such pod exists (any more). One indexed read: see
    :class:`~pod.store.directory.PodDirectory`."""
    name = local_name(base_url, webid)
    keys = await pods.find(name) if name else None
    return keys.instance if keys else None


def _account(name: str, record: dict[str, Any]) -> Account:
    return Account(name, str(record["webid"]), str(record["pod"]), int(record["created"]),
                   int(record["epoch"]), str(record["uid"]))


async def load_account(system: SystemRecords, name: str) -> Account | None:
    """The account called ``name``, or ``None``."""
    record = await system.get_json(record_name(name))
    return _account(name, record) if record else None


def check_name(name: str) -> str:
    """``name`` if it is a valid account (and pod) name; raises :class:`AccountError`."""
    try:
        return check_pod_name(name)
    except ValueError as exc:
        raise AccountError(str(exc).replace("pod name", "name")) from None


class Accounts:
    """Creates accounts and checks and changes their passwords."""

    def __init__(self, system: SystemRecords, pods: PodDirectory, resources: ResourceService,
                 passwords: Passwords):
        self._system, self._pods, self._resources = system, pods, resources
        self.passwords = passwords

    async def get(self, name: str) -> Account | None:
        return await load_account(self._system, name)

    async def create(self, name: str, password: str) -> Account:
        """A new account with its own pod (owner-only, public profile) and WebID."""
        name = check_name(name)
        check_new(password)
        # (an account without its pod is a deletion left unfinished: `account delete` ends it)
        if await self._pods.find(name) is not None or await self.get(name) is not None:
            raise AccountExists(f"the name {name!r} is taken")
        hashed = await self.passwords.hash(password)
        try:
            made = await create_pod(self._pods, self._resources, name)
        except PodExists:
            raise AccountExists(f"the name {name!r} is taken") from None
        record = {"name": name, "webid": made.webid, "pod": made.pod, "password": hashed,
                  "created": int(time.time()), "epoch": 0, "uid": secrets.token_hex(16)}
        async with self._system.write() as tx:
            await tx.put(record_name(name), dump(record))
        return _account(name, record)

    async def check_password(self, name: str, password: str) -> Account | None:
        """The account if ``password`` is its password; ``None`` otherwise (taking as long
        for an unknown name as for a wrong password)."""
        record = await self._system.get_json(record_name(name)) if name else None
        stored = str(record["password"]) if record else None
        if not await self.passwords.verify(stored, password) or record is None:
            return None
        return _account(name, record)

    async def set_password(self, account: Account, password: str) -> Account:
        """Replace the password and bump the session epoch (ending every session)."""
        check_new(password)
        hashed = await self.passwords.hash(password)
        async with self._system.write() as tx:
            opened = await tx.get(record_name(account.name))
            record = json.loads(opened.data) if opened else None
            if record is None or _account(account.name, record) != account:
                raise AccountError("the account changed meanwhile; please try again")
            record.update(password=hashed, epoch=account.epoch + 1)
            await tx.put(record_name(account.name), dump(record))
        return _account(account.name, record)
