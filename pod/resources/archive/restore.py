"""Writing a checked archive into a pod: nothing visible until everything is in.

The resources are written under a staged pod (``PodDirectory.stage``: an id and key no name
points at), parents before members, in transactions of a few megabytes so other writers are
never held up for long; only when the last one is in does the pod get its name — a new name
(``register``), or the name of a pod that holds nothing but what a new pod starts with
(``replace``, one commit). Any failure on the way — a file that fails its checksum, a document
that does not parse, a quota — discards the staged rows, and the name is as it was. (Should
the process die mid-way, the staged rows stay behind unregistered: sealed under a key that
was never stored, nobody can ever read them.)

Each document is checked as a PUT of it would be, for syntax (RDF parsed, a container holding
no containment triples, auxiliary resources RDF); not against shapes or statements' proofs,
which guard the owner's registered containers against apps and other writers, not the owner's
own data as another Commonpod server already held it. Modified times are kept.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pod.errors import ArchiveRefused, PodError, QuotaExceeded
from pod.resources import rdf, usage
from pod.resources.archive.export import walk
from pod.resources.archive.manifest import Entry, refuse
from pod.resources.archive.rebase import Rebase
from pod.resources.archive.unpack import Archive
from pod.resources.paths import Target
from pod.resources.provision import STARTING_PATHS
from pod.resources.records import BINARY, CONTAINER, RDF, Resource
from pod.resources.representation import INLINE_BYTES, bare, parse, refuse_containment
from pod.resources.service import ResourceService
from pod.resources.usage import Change, Quota
from pod.store.directory import PodDirectory, PodExists, PodGone, StagedPod
from pod.store.sealed import PodKeys

BATCH_BYTES = 4 * 1024 * 1024
BATCH_RESOURCES = 500
_KINDS = {"container": CONTAINER, "rdf": RDF, "binary": BINARY}


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import did."""

    pod: str  # the new pod's URL
    resources: int
    bytes: int
    rewritten: int  # Turtle documents stored as rewritten triples (absolute IRIs moved)
    kept: int  # RDF documents kept byte for byte
    old_pod: str  # the pod the archive came from


class PodImport:
    """Imports checked archives into pods of this server."""

    def __init__(self, directory: PodDirectory, resources: ResourceService):
        self.directory, self.resources = directory, resources

    async def is_new(self, keys: PodKeys) -> bool:
        """Whether a pod holds nothing but what a new pod starts with (an import may take
        its place)."""
        async with self.resources.store.read(keys) as reader:
            async for path, _ in walk(reader):
                if path not in STARTING_PATHS:
                    return False
        return True

    async def into(self, archive: Archive, name: str, *, replace: PodKeys | None) -> Imported:
        """Write ``archive`` into pod ``name``: a new pod, or — with ``replace`` — the pod
        ``name`` is now, which must still hold only what a new pod starts with. Raises
        :class:`~pod.errors.ArchiveRefused`, :class:`~pod.errors.QuotaExceeded`."""
        manifest = archive.manifest
        quota, own = await self._quota(replace)
        total = sum(e.size for e in manifest.resources)
        _fits(total, len(manifest.resources), quota)
        new_pod = self.resources.url(Target(name, "/"))
        rebase = Rebase(manifest.pod, new_pod, manifest.issuer, self.resources.base_url)
        staged = self.directory.stage()
        try:
            counts = await self._write(archive, name, staged, rebase, own)
            if replace is None:
                await self.directory.register(name, staged)
            else:
                if not await self.is_new(replace):
                    raise refuse(f"the pod {name!r} is not new any more: something was written "
                                 "to it meanwhile")
                await self.directory.replace(name, replace, staged)
        except PodExists:
            await self.directory.discard(staged)
            raise ArchiveRefused(f"a pod named {name!r} was made meanwhile; nothing was "
                                 "written") from None
        except PodGone:
            await self.directory.discard(staged)
            raise ArchiveRefused(f"the pod {name!r} was deleted meanwhile; nothing was "
                                 "written") from None
        except BaseException:
            await self.directory.discard(staged)
            raise
        return Imported(new_pod, len(manifest.resources), total, counts[0], counts[1],
                        manifest.pod)

    async def _quota(self, keys: PodKeys | None) -> tuple[Quota, dict[str, int | None]]:
        """The quota the imported pod gets: a replaced pod's own, else the server's."""
        if keys is None:
            return self.resources.quota, {}
        found, quota = await self.resources.pod_usage(keys)
        return quota, {"max_bytes": found.max_bytes, "max_resources": found.max_resources}

    async def _write(self, archive: Archive, name: str, staged: StagedPod, rebase: Rebase,
                     own: dict[str, int | None]) -> tuple[int, int]:
        """Every resource, parents first, in batches; the usage record with the last."""
        entries = sorted(archive.manifest.resources, key=lambda e: (e.depth, e.path))
        change, rewritten, kept = Change(), 0, 0
        batch: list[tuple[Target, Resource]] = []
        size = 0
        for entry in entries:
            target = Target(name, entry.path)
            body = (await asyncio.to_thread(archive.read, entry) if entry.size > INLINE_BYTES
                    else archive.read(entry))  # inflating and hashing: off the loop when big
            res, moved = await self._record(entry, target, body, rebase)
            rewritten += moved
            kept += res.kind != BINARY and not moved
            batch.append((target, res))
            size += len(body)
            if size >= BATCH_BYTES or len(batch) >= BATCH_RESOURCES:
                await self._commit(staged, batch, change)
                batch, size = [], 0
        await self._commit(staged, batch, change, own=own)
        return rewritten, kept

    async def _commit(self, staged: StagedPod, batch: list[tuple[Target, Resource]],
                      change: Change, *, own: dict[str, int | None] | None = None) -> None:
        async with self.resources.store.write(staged.keys) as tx:
            for target, res in batch:
                await self.resources.restore(tx, staged.keys, target, res, change)
            if own is not None:
                await usage.start(tx, change)
                if any(v is not None for v in own.values()):
                    found = usage.Usage(change.bytes, change.resources, **own)
                    await tx.put(usage.RECORD, found.encode())

    async def _record(self, entry: Entry, target: Target, body: bytes, rebase: Rebase
                      ) -> tuple[Resource, bool]:
        """The stored record of one archived resource, checked as a PUT of it would be; and
        whether its triples were rewritten."""
        kind, media = _KINDS[entry.kind], bare(entry.content_type) or ""
        if kind == BINARY:
            if rdf.is_rdf(media):
                raise refuse(f"{entry.path} is a file of an RDF media type")
            return Resource(BINARY, entry.content_type, entry.modified, body), False
        if media not in (rdf.TURTLE, rdf.JSON_LD) or (kind == CONTAINER and media != rdf.TURTLE):
            raise refuse(f"{entry.path} is RDF of a media type this server does not store")
        old_url = rebase.old_pod + entry.path[1:]
        new_url = self.resources.url(target)
        try:
            if media == rdf.JSON_LD:
                await parse(self.resources.workers, body, media, new_url)
                stored = body
            elif len(body) > INLINE_BYTES:
                stored = await asyncio.to_thread(rebase.turtle, body, old_url, new_url)
            else:
                stored = rebase.turtle(body, old_url, new_url)
            if kind == CONTAINER and stored:
                refuse_containment(rdf.parse(stored, rdf.TURTLE, new_url))
        except QuotaExceeded:
            raise
        except PodError as error:
            raise refuse(f"{entry.path} cannot be stored: {error.detail}") from None
        return Resource(kind, media, entry.modified, stored), stored is not body


def _fits(total: int, count: int, quota: Quota) -> None:
    over = []
    if quota.bytes and total > quota.bytes:
        over.append(f"{total} bytes, beyond the quota of {quota.bytes}")
    if quota.resources and count > quota.resources:
        over.append(f"{count} resources, beyond the quota of {quota.resources}")
    if over:
        raise QuotaExceeded(f"the archive holds {' and '.join(over)}; nothing was written",
                            quota={"bytes": quota.bytes, "resources": quota.resources})
