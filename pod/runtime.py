"""Opening the server's parts from settings: backend, keys, pod directory, the pod services.

Used by the HTTP app at start-up (:func:`pod.app.create_app`, which builds the rest of the
server on them) and by CLI commands that work on the data directly (``pod create`` works while
a server runs: SQLite in WAL mode, or PostgreSQL, serves both processes). Each service is given
what it uses when it is made; nothing is attached afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auth.fetch import Fetcher
from auth.groups import GroupMembership
from auth.issuer_documents import IssuerDocuments
from pod.access.audit import AccessLog
from pod.access.decide import AccessDecider
from pod.access.documents import LocalDocuments
from pod.access.reading import ReadService
from pod.errors import ConfigError
from pod.resources.patch import PatchParser
from pod.resources.service import ResourceService
from pod.resources.usage import Quota
from pod.resources.workers import Workers
from pod.settings import Settings, redacted
from pod.statements.checking import StatementChecker
from pod.statements.resolver import KeyResolver
from pod.store import keys
from pod.store.backends import open_backend
from pod.store.base import CopyableBackend
from pod.store.directory import PodDirectory
from pod.store.sealed import SealedStore
from pod.store.system import SystemRecords


@dataclass
class Runtime:
    settings: Settings
    backend: CopyableBackend
    keyring: keys.Keyring
    pods: PodDirectory
    resources: ResourceService
    access: AccessDecider
    system: SystemRecords
    log: AccessLog  # the owners' access logs, flushed in the background
    workers: Workers  # budgeted parsing and validation of untrusted input
    patches: PatchParser
    documents: LocalDocuments  # this server's documents, read as a GET would (no fetch)
    reads: ReadService  # GET, bulk reads and write decisions over one snapshot of a pod
    statements: StatementChecker | None  # statements' proofs (None without a fetcher)

    async def close(self) -> None:
        try:
            await self.log.close()
            await self.workers.close()
        finally:
            await self.backend.close()


def _pending_key(settings: Settings) -> Path:
    """Where a rotation writes the new master key: beside the current one."""
    key = settings.master_key_path
    return key.with_name(key.name + ".next")


def finish_rotation(settings: Settings) -> None:
    """Complete a key rotation interrupted after its database commit (see ``rotate_keys``)."""
    pending = _pending_key(settings)
    if pending.exists():
        pending.replace(settings.master_key_path)


async def open_runtime(settings: Settings, *, create: bool = False,
                       fetcher: Fetcher | None = None) -> Runtime:
    """Open everything; raises :class:`ConfigError` when keys or data do not fit together.

    With a ``fetcher`` (the server), the access decision counts ``acl:agentGroup`` members and
    the resource service checks the proofs of statements written where they are registered,
    both reading other servers' documents through it; without one (the command line), groups
    grant nothing and such statements are refused unchecked."""
    database = settings.database_path
    if not settings.master_key_path.exists() and not create:
        if database is None:
            raise ConfigError(f"the master key file {settings.master_key_path} is missing (the "
                              f"store is {redacted(settings.store_location)}): run `commonpod "
                              "init`, or give the key of this store; refusing to start")
        if database.exists():
            raise ConfigError(f"{database} exists but the master key file "
                              f"{settings.master_key_path} is missing; refusing to start")
        raise ConfigError(f"no data directory at {settings.data_dir}: run `commonpod init`")
    master = keys.read_key_file(settings.master_key_path)
    backend = await open_backend(settings.store_location, settings.durability,
                                 sqlite_mmap_mb=settings.sqlite_mmap_mb,
                                 sqlite_cache_mb=settings.sqlite_cache_mb)
    try:
        keyring = await _keyring(backend, master, settings, create)
    except BaseException:
        await backend.close()
        raise
    store = SealedStore(backend)
    log = AccessLog(store, base_url=settings.base_url, retention_days=settings.access_log_days,
                    journal_states=settings.cache_pods,
                    count_interval=settings.access_log_count_seconds)
    await log.start()
    directory = PodDirectory(backend, keyring, cache_size=settings.cache_pods)
    workers = Workers()
    base = settings.base_url
    # this server's documents (Client ID, group and issuers' documents) are read as a GET
    # would, under a decision that counts no groups: reading a group never asks for a group
    acls, pods = settings.cache_acls, settings.cache_pods
    readers = AccessDecider(base, store=store, find_pod=directory.find, acl_cache=acls,
                            pod_cache=pods)
    documents = LocalDocuments(base, directory.find, store, readers)
    groups = GroupMembership(documents, fetcher).is_member if fetcher else None
    access = AccessDecider(base, groups, store=store, find_pod=directory.find, acl_cache=acls,
                           pod_cache=pods)
    statements = _statements(base, workers, documents, fetcher)
    resources = ResourceService(store, base, workers,
                                Quota(settings.max_pod_bytes, settings.max_pod_resources),
                                statements=statements, pod_cache=settings.cache_pods)
    for decider in (access, readers):
        resources.on_write(decider.grant_index.touched)
    return Runtime(settings, backend, keyring, directory, resources, access,
                   SystemRecords(store, keyring), log, workers, PatchParser(workers), documents,
                   ReadService(access, resources), statements)


def _statements(base_url: str, workers: Workers, documents: LocalDocuments,
                fetcher: Fetcher | None) -> StatementChecker | None:
    """The check of statements' proofs: issuers' keys, and status list credentials, from this
    server's documents (public ones, from the store) or through the guarded fetcher (which
    reaches private addresses only with ``allow_private_fetch``); ``None`` without a fetcher."""
    if fetcher is None:
        return None
    issuers = IssuerDocuments(documents, fetcher)
    return StatementChecker(workers, KeyResolver(base_url, issuers.local, issuers.remote),
                            KeyResolver(base_url, issuers.local, issuers.remote_status_list))


async def _keyring(backend: CopyableBackend, master: bytes, settings: Settings,
                   create: bool) -> keys.Keyring:
    try:
        return await keys.open_keyring(backend, master, create=create)
    except ConfigError:
        pending = _pending_key(settings)
        if not pending.exists():
            raise
        keyring = await keys.open_keyring(backend, keys.read_key_file(pending), create=False)
        finish_rotation(settings)
        return keyring


async def rotate_keys(settings: Settings) -> int:
    """Replace the master key: write the new key beside the old, rewrap every key in one
    transaction, then move the new key file into place. Returns the number of pods."""
    runtime = await open_runtime(settings)
    pending = _pending_key(settings)
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
