"""Client credentials: create, list, revoke."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from auth.accounts import Account, load_account
from auth.credentials import Credentials
from pod.cli.common import CommandError, settings_of
from pod.runtime import open_runtime

T = TypeVar("T")


def _with_credentials(args: argparse.Namespace,
                      work: Callable[[Credentials, Account], Awaitable[T]]) -> T:
    """Run ``work(credentials, account)`` against the data directory; the account must exist."""
    settings = settings_of(args)

    async def run() -> T:
        rt = await open_runtime(settings)
        try:
            account = await load_account(rt.system, args.account)
            if account is None:
                raise CommandError(f"there is no account named {args.account!r}")
            return await work(Credentials(rt.system), account)
        finally:
            await rt.close()

    return asyncio.run(run())


def cmd_credentials_create(args: argparse.Namespace) -> int:
    async def create(creds: Credentials, account: Account) -> dict[str, str]:
        cred, secret = await creds.create(account.name, account.webid, args.label,
                                          uid=account.uid)
        return {"client_id": cred.client_id, "client_secret": secret, "webid": cred.webid,
                "issuer": settings_of(args).base_url}

    print(json.dumps(_with_credentials(args, create)))
    return 0


def cmd_credentials_list(args: argparse.Namespace) -> int:
    async def listing(creds: Credentials, account: Account) -> list[dict[str, object]]:
        return [c.public() for c in await creds.list(account.name)]

    print(json.dumps(_with_credentials(args, listing)))
    return 0


def cmd_credentials_revoke(args: argparse.Namespace) -> int:
    async def revoke(creds: Credentials, account: Account) -> bool:
        return await creds.revoke(account.name, args.client_id)

    if not _with_credentials(args, revoke):
        raise CommandError(f"{args.account!r} has no credential {args.client_id!r}")
    print(json.dumps({"revoked": args.client_id}))
    return 0


