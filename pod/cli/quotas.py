"""Pod quotas: pod quota (the pod's own limits) and pod usage (what it holds)."""

from __future__ import annotations

import argparse
import asyncio
import json

from pod.cli.common import DEFAULT, CommandError, settings_of
from pod.resources.usage import Quota, Usage
from pod.runtime import open_runtime


def _report(name: str, found: Usage, quota: Quota) -> dict[str, object]:
    return {"pod": name,
            "used": {"bytes": found.bytes, "resources": found.resources},
            "quota": {"bytes": quota.bytes, "resources": quota.resources},
            "own_quota": {"bytes": found.max_bytes, "resources": found.max_resources}}


def _run(args: argparse.Namespace, own: dict[str, int | None]) -> int:
    settings = settings_of(args)

    async def run() -> dict[str, object]:
        rt = await open_runtime(settings)
        try:
            keys = await rt.pods.find(args.name)
            if keys is None:
                raise CommandError(f"there is no pod named {args.name!r}")
            return _report(args.name, *await rt.resources.pod_usage(keys, own))
        finally:
            await rt.close()

    print(json.dumps(asyncio.run(run())))
    return 0


def cmd_pod_quota(args: argparse.Namespace) -> int:
    own = {f"max_{what}": getattr(args, what) for what in ("bytes", "resources")
           if hasattr(args, what)}  # flags not given are absent (argparse.SUPPRESS)
    if not own:
        raise CommandError("say which quota to set: --bytes N and/or --resources N "
                           f"(0: unlimited; {DEFAULT!r}: the server's setting)")
    return _run(args, own)


def cmd_pod_usage(args: argparse.Namespace) -> int:
    return _run(args, {})
