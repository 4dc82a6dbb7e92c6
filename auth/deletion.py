"""Deleting an account: its pod crypto-shredded first, then every record the server keeps for
it (what goes and what stays: docs/auth.md, "Deleting an account").

1. Read what must be known before the pod is gone: the grants in it, to tell their apps.
2. Destroy the pod (:meth:`~pod.store.directory.PodDirectory.destroy`): its wrapped key in a
   commit of its own, then its rows — resources, access log, grants — which no key opens any
   more from the first commit on.
3. In one transaction, delete the server's own records of the account: the account itself,
   its sessions, client credentials, authorization codes, refresh tokens and pending
   authorization requests (each found through a per-account index), the pod's statement
   signing key, and the webhooks remembered for its grants.

Each step can run again, so a deletion cut short (a crash between 2 and 3) is finished by
deleting again; meanwhile the name stays taken (:meth:`auth.accounts.Accounts.create`). The
account's tokens are bound to the instance of its pod (:mod:`auth.authenticate`), so they are
refused from the first commit of step 2, by every process sharing the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from auth import consent, credentials, sessions
from auth.accounts import AccountError, load_account, record_name
from auth.consent import Consent
from auth.oidc import records
from pod.access.audit import AccessLog
from pod.statements import keys as statement_keys
from pod.store.directory import PodDirectory
from pod.store.system import SystemRecords


@dataclass(frozen=True)
class Deleted:
    """What a deletion did: the apps to tell (``grant.revoked``, reason ``account.deleted``)
    and how many server records went besides the pod."""

    name: str
    webid: str
    notices: tuple[consent.Notice, ...]
    records: int


class AccountDeletion:
    """Deletes accounts, with what they need: the server's records, the pod directory, the
    access log (nothing buffered for the pod is written after it goes) and the grants."""

    def __init__(self, system: SystemRecords, pods: PodDirectory, log: AccessLog,
                 consent: Consent):
        self.system, self.pods, self.log, self.consent = system, pods, log, consent

    async def delete(self, name: str) -> Deleted:
        """Delete the account ``name``; raises :class:`AccountError` when there is none. The
        caller checks that whoever asks may (the password on the page, the operator's
        shell)."""
        account = await load_account(self.system, name)
        if account is None:
            raise AccountError(f"there is no account named {name!r}")
        grants = await self.consent.grants(name)  # none when the pod went already
        notices = []
        for grant in grants:
            notice = None if grant.withdrawn else await consent.revocation_notice(self.system,
                                                                                  grant)
            if notice is not None:
                notices.append(notice)
        keys = await self.pods.find(name)
        if keys is not None:
            await self.log.forget(keys.pod_id)  # nothing buffered is written after the rows go
            await self.pods.destroy(name)
            await self.log.forget(keys.pod_id)  # nor what requests in flight added meanwhile
        async with self.system.write() as tx:
            count = await sessions.drop_account(tx, name)
            count += await credentials.drop_account(tx, name)
            count += await records.drop_account(tx, name)
            for grant in grants:
                count += await tx.delete(consent.WEBHOOK_RECORD + grant.iri)
            count += await tx.delete(statement_keys.record_name(name))
            count += await tx.delete(record_name(name))
        return Deleted(name, account.webid, tuple(notices), count)
