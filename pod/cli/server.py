"""Data directory and server commands: init, serve, keys rotate."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from auth.identity import Identity
from pod import settings as config
from pod.cli.common import CommandError, settings_of
from pod.errors import IntegrityError
from pod.runtime import open_runtime, rotate_keys
from pod.settings import Settings
from pod.store import keys


def initialise(settings: Settings) -> None:
    """Create a data directory: settings, a fresh master key (0600) and an empty store."""
    d = settings.data_dir
    if d.exists() and any((d / f).exists() for f in (
            config.SETTINGS_FILE, config.MASTER_KEY_FILE, config.DATABASE_FILE)):
        raise CommandError(f"{d} already holds a Commonpod data directory; not overwriting it")
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    config.write_file(settings)
    keys.write_key_file(settings.master_key_path, keys.new_master_key())

    async def make_store() -> None:
        rt = await open_runtime(settings, create=True)
        await rt.close()

    asyncio.run(make_store())


def cmd_init(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    initialise(settings)
    print(json.dumps({"data_dir": str(settings.data_dir), "base_url": settings.base_url}))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pod.app import create_app

    settings = settings_of(args)
    if not settings.master_key_path.exists() and not settings.database_path.exists():
        initialise(settings)
        print(f"commonpod: initialised a new data directory at {settings.data_dir}",
              file=sys.stderr)

    async def check() -> None:  # refuse to start before binding the port
        rt = await open_runtime(settings)
        try:
            await Identity.open(rt.system, settings.base_url)  # makes the signing key once
        except IntegrityError:
            raise CommandError("the server's own records fail to open: the database was "
                               "altered or damaged; refusing to start") from None
        finally:
            await rt.close()

    asyncio.run(check())
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level, server_header=False, access_log=False,
                proxy_headers=False)
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    count = asyncio.run(rotate_keys(settings))
    print(json.dumps({"rotated": True, "pods": count}))
    return 0


