"""Sign-up invitations: invite create."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime

from auth.invites import Invites
from pod.cli.common import CommandError, settings_of
from pod.runtime import open_runtime


def cmd_invite_create(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if settings.signup != "invite":
        raise CommandError(f"the setting signup is {settings.signup!r}: invitations are used "
                           "only with signup = \"invite\" (settings.toml or COMMONPOD_SIGNUP)")

    async def run() -> dict[str, str]:
        rt = await open_runtime(settings)
        try:
            made = await Invites(rt.system).create(settings.base_url, args.days)
        finally:
            await rt.close()
        expires = datetime.fromtimestamp(made.expires, UTC).isoformat().replace("+00:00", "Z")
        return {"link": made.link, "expires": expires}

    print(json.dumps(asyncio.run(run())))
    return 0
