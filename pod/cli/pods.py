"""Pods and accounts: pod create/delete, account create/delete."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from pathlib import Path

from auth.accounts import AccountError, Accounts, check_name, load_account
from auth.consent import Consent
from auth.deletion import AccountDeletion
from auth.fetch import Fetcher
from auth.oidc.tokens import SigningKeys
from auth.passwords import Passwords, WeakPassword, check_new
from auth.webhooks import ACCOUNT_DELETED, Webhooks
from pod.cli.common import CommandError, settings_of
from pod.resources.paths import check_pod_name
from pod.resources.provision import create_pod
from pod.runtime import open_runtime
from pod.store.directory import PodExists

_UNFINISHED = ("the name {name!r} belongs to an account whose pod is gone (an unfinished "
               "deletion): finish it with `commonpod account delete {name}`")


def cmd_pod_create(args: argparse.Namespace) -> int:
    try:
        name = check_pod_name(args.name)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    settings = settings_of(args)
    if args.public_write:
        print(f"commonpod: WARNING: pod {name!r} is PUBLICLY WRITABLE: anyone can read, change "
              "and delete everything in it. Use this for benchmarks and tests only.",
              file=sys.stderr)

    async def run() -> dict[str, str]:
        rt = await open_runtime(settings)
        try:
            if await rt.pods.find(name) is None and await load_account(rt.system, name):
                raise CommandError(_UNFINISHED.format(name=name))
            made = await create_pod(rt.pods, rt.resources, name, public_write=args.public_write)
        except PodExists:
            raise CommandError(f"a pod named {name!r} already exists") from None
        finally:
            await rt.close()
        return {"pod": made.pod, "webid": made.webid}

    print(json.dumps(asyncio.run(run())))
    return 0


def cmd_pod_delete(args: argparse.Namespace) -> int:
    settings = settings_of(args)

    async def run() -> bool:
        rt = await open_runtime(settings)
        try:
            if await load_account(rt.system, args.name) is not None:
                raise CommandError(
                    f"the pod {args.name!r} belongs to the account {args.name!r}: delete the "
                    f"account with `commonpod account delete {args.name}`, which also ends its "
                    "sessions, credentials and tokens and frees the name")
            return await rt.pods.destroy(args.name) is not None
        finally:
            await rt.close()

    if not asyncio.run(run()):
        raise CommandError(f"there is no pod named {args.name!r}")
    print(json.dumps({"deleted": args.name}))
    return 0


def _read_password(source: str | None) -> str:
    """The new password: from a file, from stdin (``-``), or typed twice at a prompt."""
    if source is None:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password again: "):
            raise CommandError("the two passwords differ")
        return first
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise CommandError("the password file is not UTF-8 text") from None
    return text.removesuffix("\n").removesuffix("\r")


def cmd_account_create(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    try:
        name = check_name(args.name)
    except AccountError as exc:
        raise CommandError(str(exc)) from None

    async def run() -> dict[str, str]:
        rt = await open_runtime(settings)
        try:
            if await rt.pods.find(name) is not None:  # before asking for a password
                raise CommandError(f"the name {name!r} is taken")
            if await load_account(rt.system, name) is not None:
                raise CommandError(_UNFINISHED.format(name=name))
            password = _read_password(args.password_file)
            check_new(password)
            accounts = Accounts(rt.system, rt.pods, rt.resources, Passwords())
            account = await accounts.create(name, password)
        except (AccountError, WeakPassword) as exc:
            raise CommandError(str(exc)) from None
        finally:
            await rt.close()
        return {"webid": account.webid, "pod": account.pod, "issuer": settings.base_url}

    print(json.dumps(asyncio.run(run())))
    return 0


def cmd_account_delete(args: argparse.Namespace) -> int:
    settings = settings_of(args)

    async def run() -> dict[str, object]:
        rt = await open_runtime(settings)
        try:
            hooks = Webhooks(await SigningKeys.load_or_create(rt.system), settings.base_url,
                             Fetcher(allow_private=settings.allow_private_fetch))
            try:
                consent = Consent(settings.base_url, rt.pods, rt.resources, rt.access)
                deletion = AccountDeletion(rt.system, rt.pods, rt.log, consent)
                done = await deletion.delete(args.name)
            except AccountError as exc:
                raise CommandError(str(exc)) from None
            now = time.time()
            told = await asyncio.gather(*(hooks.deliver(
                n.url, client_id=n.client_id, grant=n.grant, owner=done.webid, revoked_at=now,
                reason=ACCOUNT_DELETED) for n in done.notices))
        finally:
            await rt.close()
        return {"deleted": done.name, "webid": done.webid, "records": done.records,
                "apps_told": sum(d.delivered for d in told),
                "apps_not_reached": [d.client_id for d in told if not d.delivered]}

    print(json.dumps(asyncio.run(run())))
    return 0
