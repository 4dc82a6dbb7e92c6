"""``commonpod-app rewards …`` (or ``python -m apps.rewards …``):

- ``serve``: the page of badges, with issuance every ``--issue-every`` seconds;
- ``issue``: one issuance run, its report printed as JSON;
- ``revoke CREDENTIAL_ID``: revoke a badge (its bit set in the community's status list).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from apps.rewards.service import Setup, signed_in
from apps.sdk import SdkError
from apps.shared_view.config import Credential


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="commonpod-app rewards",
        description="Open Badges for the members who meet the badges of the community's rules.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--community", required=True, help="the community's WebID")
    common.add_argument("--credentials", required=True, type=Path,
                        help="the JSON `commonpod credentials create` printed for the "
                             "community's account")
    common.add_argument("--key-file", required=True, type=Path,
                        help="the community's signing key (made, mode 0600, if missing)")
    common.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", parents=[common], help="the page, and issuance on schedule")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8720)
    serve.add_argument("--issue-every", type=float, default=3600.0, metavar="SECONDS")
    sub.add_parser("issue", parents=[common], help="one issuance run")
    revoke = sub.add_parser("revoke", parents=[common], help="revoke a badge")
    revoke.add_argument("credential_id", help="the badge credential's id (urn:uuid:…)")
    return p


async def _issue(setup: Setup) -> dict[str, object]:
    from apps.rewards import issue
    from apps.rules.store import RulesStore

    async with signed_in(setup) as (issuer, pod):
        rules = await RulesStore(issuer.client, issuer.pod).in_force()
        report = await issue.run(issuer, rules, await pod.members())
    return {"rules_version": rules.version, **asdict(report)}


async def _revoke(setup: Setup, cid: str) -> dict[str, object]:
    from apps.rewards import issue

    async with signed_in(setup) as (issuer, _):
        entry = await issue.revoke(issuer, cid)
    return {"revoked": cid, "member": entry.member, "badge": entry.badge, "index": entry.index}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; 2 for bad arguments, 1 when it failed."""
    args = parser().parse_args(argv)
    try:
        if "#" not in args.community:
            raise ValueError("--community must be the community's WebID (…/profile/card#me)")
        setup = Setup(args.community, Credential.from_file(args.credentials), args.key_file,
                      args.timeout)
    except ValueError as exc:
        print(f"commonpod-app rewards: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.command == "serve":
        import uvicorn

        from apps.rewards.web import create_app

        uvicorn.run(create_app(setup, args.issue_every), host=args.host, port=args.port,
                    log_level="warning", proxy_headers=False)
        return 0
    try:
        if args.command == "issue":
            out = asyncio.run(_issue(setup))
        else:
            out = asyncio.run(_revoke(setup, args.credential_id))
    except KeyError:
        print(f"commonpod-app rewards: the community never issued {args.credential_id}",
              file=sys.stderr)
        return 1
    except (ValueError, SdkError) as exc:
        print(f"commonpod-app rewards: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(out, indent=2))
    return 0
