"""Data directory and server commands: init, serve, keys rotate."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

from auth.identity import Identity
from pod import settings as config
from pod.cli.common import SETTING_FLAGS, CommandError, settings_of
from pod.errors import IntegrityError
from pod.runtime import open_runtime, rotate_keys
from pod.settings import Settings, redacted
from pod.store import keys
from pod.store.backends import open_backend
from pod.store.sqlite import MAX_READERS

KEEP_ALIVE = 5  # seconds an idle kept-alive connection stays open (uvicorn's default)
# open files beyond the connections: database, WAL, logs, outbound fetches, and the SQLite read
# blocks' connections (two files each)
SPARE_FILES = 64 + 2 * MAX_READERS


def initialise(settings: Settings) -> None:
    """Create a data directory: settings, a fresh master key (0600, in the data directory or
    at ``master_key_file``) and an empty store. What it made is removed again if a step fails,
    so a failed ``init`` (read-only or full disk) can simply be run again."""
    d, key, database = settings.data_dir, settings.master_key_path, settings.database_path
    if d.exists() and any((d / f).exists() for f in (
            config.SETTINGS_FILE, config.MASTER_KEY_FILE, config.DATABASE_FILE)):
        raise CommandError(f"{d} already holds a Commonpod data directory; not overwriting it")
    if database is not None and database.exists():
        raise CommandError(f"a database already exists at {database}; not overwriting it")
    if key.exists():
        raise CommandError(f"a master key file already exists at {key}; not overwriting it")
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    made: list[Path] = []
    try:
        config.write_file(settings)
        made.append(d / config.SETTINGS_FILE)
        keys.write_key_file(key, keys.new_master_key())
        made.append(key)

        async def make_store() -> None:
            if database is None:
                await _refuse_used(settings)
            rt = await open_runtime(settings, create=True)
            await rt.close()

        if database is not None:
            made.append(database)
        asyncio.run(make_store())
    except BaseException:
        for path in reversed(made):  # only files this call created (each opened O_EXCL)
            for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        raise


async def _refuse_used(settings: Settings) -> None:
    """Refuse to initialise a PostgreSQL store that already holds a Commonpod keyring."""
    backend = await open_backend(settings.store_location, settings.durability)
    try:
        if await backend.get_key(keys.SERVER_KEY) is not None:
            raise CommandError(f"the store {redacted(settings.store_location)} already holds "
                               "a Commonpod keyring, and there is no master key at "
                               f"{settings.master_key_path}: not overwriting it (give the key "
                               "it was made with, or use an empty database)")
    finally:
        await backend.close()


def cmd_init(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    initialise(settings)
    print(json.dumps({"data_dir": str(settings.data_dir), "base_url": settings.base_url,
                      "store": redacted(settings.store_location)}))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pod.app import create_app
    from pod.http.connection import BoundedHttp, Limits

    settings = settings_of(args)
    database = settings.database_path
    if not settings.master_key_path.exists() and (database is None or not database.exists()):
        initialise(settings)
        print(f"commonpod: initialised a new data directory at {settings.data_dir}",
              file=sys.stderr)

    async def check() -> None:  # refuse to start before binding the port
        rt = await open_runtime(settings)
        try:
            await Identity.open(rt.system, settings.base_url, pods=rt.pods)  # makes its key
        except IntegrityError:
            raise CommandError("the server's own records fail to open: the database was "
                               "altered or damaged; refusing to start") from None
        finally:
            await rt.close()

    asyncio.run(check())
    _open_files_for(settings.max_connections)
    limits = Limits(settings.header_timeout, settings.body_timeout, settings.body_min_rate)
    options: dict[str, Any] = dict(
        host=settings.host, port=settings.port, log_level=settings.log_level,
        server_header=False, access_log=False, proxy_headers=False,
        # a protocol factory, as uvicorn calls it; its annotation asks for a class
        http=functools.partial(BoundedHttp, limits=limits),
        limit_concurrency=settings.max_connections, timeout_keep_alive=KEEP_ALIVE)
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **options)
        return 0
    # uvicorn's supervisor binds the port once and starts each worker process afresh; each
    # builds the app from the same flags (WORKER_FLAGS) and environment: the same settings
    flags = {name: getattr(args, name, None) for name in SETTING_FLAGS}
    os.environ[WORKER_FLAGS] = json.dumps({k: str(v) if isinstance(v, Path) else v
                                           for k, v in flags.items()})
    uvicorn.run(f"{__name__}:worker_app", factory=True, workers=settings.workers, **options)
    return 0


WORKER_FLAGS = "COMMONPOD_WORKER_FLAGS"
"""The flags ``serve`` was given that are settings, for the app factory of each worker."""


def worker_app() -> Any:
    """The app of one worker process of ``serve --workers N`` (uvicorn's factory)."""
    from pod.app import create_app

    flags = json.loads(os.environ[WORKER_FLAGS])
    for name in ("data_dir", "master_key_file"):
        if flags.get(name) is not None:
            flags[name] = Path(flags[name])
    return create_app(settings_of(argparse.Namespace(**flags)))


def _open_files_for(connections: int) -> None:
    """Make sure ``connections`` sockets (and the database's files) can be open at once:
    raise the soft open-files limit as far as needed, or refuse to start."""
    needed = connections + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise CommandError(f"max_connections {connections} needs {needed} open files, but "
                               f"this process may open at most {hard} (ulimit -n): lower "
                               "max_connections or raise the limit")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    count = asyncio.run(rotate_keys(settings))
    print(json.dumps({"rotated": True, "pods": count}))
    return 0


