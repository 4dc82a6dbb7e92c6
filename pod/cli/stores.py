"""``store copy``: move a deployment's sealed store between backends."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from pod.cli.common import CommandError
from pod.settings import check_store, is_postgres, redacted
from pod.store.backends import open_backend
from pod.store.copy import CopySummary, copy_store


def _location(value: str) -> str:
    """A store location from the command line: a relative SQLite path is made absolute."""
    if is_postgres(value) or "://" in value:
        location = value
    else:
        location = str(Path(value.removeprefix("sqlite:")).expanduser().absolute())
    check_store(location)
    return location


def cmd_store_copy(args: argparse.Namespace) -> int:
    source, target = _location(args.source), _location(args.target)
    if source == target:
        raise CommandError("--from and --to name the same store")

    made = None if is_postgres(target) or Path(target).exists() else Path(target)

    async def copy() -> CopySummary:
        src = await open_backend(source, existing=True)
        try:
            dst = await open_backend(target)
            try:
                return await copy_store(src, dst)
            finally:
                await dst.close()
        finally:
            await src.close()

    try:
        summary = asyncio.run(copy())
    except BaseException:
        if made is not None:  # a SQLite file this command made: gone again
            for path in (made, *(made.with_name(made.name + s) for s in ("-wal", "-shm"))):
                path.unlink(missing_ok=True)
        raise
    print(json.dumps({"from": redacted(source), "to": redacted(target), "rows": summary.rows,
                      "bytes": summary.bytes, "verified": True}))
    return 0
