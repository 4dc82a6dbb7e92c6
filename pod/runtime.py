"""Opening the server's parts from settings: backend, keys, pod directory, services.

Used by the HTTP app at start-up and by CLI commands that work on the data directly (``pod
create`` works while a server runs: SQLite in WAL mode serves both processes).
"""

from __future__ import annotations

from dataclasses import dataclass

from pod.access.audit import AccessLog
from pod.access.decide import AccessDecider
from pod.errors import ConfigError
from pod.resources.service import ResourceService
from pod.settings import Settings
from pod.store import keys
from pod.store.directory import PodDirectory
from pod.store.sealed import SealedStore
from pod.store.sqlite import SQLiteBackend
from pod.store.system import SystemRecords


@dataclass
class Runtime:
    settings: Settings
    backend: SQLiteBackend
    keyring: keys.Keyring
    pods: PodDirectory
    resources: ResourceService
    access: AccessDecider
    system: SystemRecords
    log: AccessLog  # the owners' access logs, flushed in the background

    async def close(self) -> None:
        try:
            await self.log.close()
        finally:
            await self.backend.close()


def finish_rotation(settings: Settings) -> None:
    """Complete a key rotation interrupted after its database commit (see ``rotate_keys``)."""
    pending = settings.master_key_path.with_name("master.key.next")
    if pending.exists():
        pending.replace(settings.master_key_path)


async def open_runtime(settings: Settings, *, create: bool = False) -> Runtime:
    """Open everything; raises :class:`ConfigError` when keys or data do not fit together."""
    db_exists = settings.database_path.exists()
    if not settings.master_key_path.exists() and not create:
        if db_exists:
            raise ConfigError(f"{settings.database_path} exists but the master key file "
                              f"{settings.master_key_path} is missing; refusing to start")
        raise ConfigError(f"no data directory at {settings.data_dir}: run `commonpod init`")
    master = keys.read_key_file(settings.master_key_path)
    backend = SQLiteBackend(settings.database_path, settings.durability.upper())
    try:
        keyring = await _keyring(backend, master, settings, create)
    except BaseException:
        await backend.close()
        raise
    store = SealedStore(backend)
    log = AccessLog(store, base_url=settings.base_url, retention_days=settings.access_log_days)
    await log.start()
    directory = PodDirectory(backend, keyring)
    resources = ResourceService(store, settings.base_url)
    access = AccessDecider(settings.base_url, store=store, find_pod=directory.find)
    resources.on_write(access.grant_index.touched)
    return Runtime(settings, backend, keyring, directory, resources, access,
                   SystemRecords(store, keyring), log)


async def _keyring(backend: SQLiteBackend, master: bytes, settings: Settings,
                   create: bool) -> keys.Keyring:
    try:
        return await keys.open_keyring(backend, master, create=create)
    except ConfigError:
        pending = settings.master_key_path.with_name("master.key.next")
        if not pending.exists():
            raise
        keyring = await keys.open_keyring(backend, keys.read_key_file(pending), create=False)
        finish_rotation(settings)
        return keyring


async def rotate_keys(settings: Settings) -> int:
    """Replace the master key: write the new key beside the old, rewrap every key in one
    transaction, then move the new key file into place. Returns the number of pods."""
    runtime = await open_runtime(settings)
    pending = settings.master_key_path.with_name("master.key.next")
    try:
        if pending.exists():
            pending.unlink()  # a rotation that never committed: its key opens nothing
        new_master = keys.new_master_key()
        keys.write_key_file(pending, new_master)
        count = len([row async for row in runtime.backend.pods()])
        await keys.rewrap_all(runtime.backend, runtime.keyring, new_master)
        finish_rotation(settings)
        return count
    finally:
        await runtime.close()
