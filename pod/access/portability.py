"""A pod leaves with its owner, and arrives: export to one archive, import from one.

The export holds every resource (:mod:`pod.resources.archive`) and the owner's access log,
one JSON document per day (the same records ``/.api/log`` answers). The import writes an
archive's resources into a new pod, or into a pod that holds only what a new pod starts with
(an account made for the purpose); its access log stays in the archive, for the owner: it
records what other people and apps did on the old server, which this one never saw. Signing
keys for statements stay on the old server too (a new one is made here on first use).

Both are for a pod's owner, or the operator on the command line: the HTTP edge checks who
asks; nothing here decides access.
"""

from __future__ import annotations

import calendar
import json
import time
from typing import BinaryIO

from pod.access.audit import AccessLog
from pod.access.renderings import to_json
from pod.errors import ArchiveRefused, NotFound
from pod.resources.archive.export import PodExport, plan
from pod.resources.archive.restore import Imported, PodImport
from pod.resources.archive.unpack import Archive
from pod.resources.paths import Target
from pod.resources.service import ResourceService
from pod.store.directory import PodDirectory
from pod.store.sealed import PodKeys

__all__ = ["Imported", "PodExport", "Portability"]

LOG_API = ".api/log"


class _LogDays:
    """One pod's access log as one JSON document per day."""

    def __init__(self, log: AccessLog, keys: PodKeys, log_url: str):
        self._log, self._keys, self._url = log, keys, log_url

    async def days(self) -> list[str]:
        return await self._log.days(self._keys)

    async def day(self, day: str) -> bytes:
        start = calendar.timegm(time.strptime(day, "%Y-%m-%d"))
        records = await self._log.query(self._keys, since=start, until=start + 86400,
                                        limit=10**9)
        return json.dumps(to_json(records, self._url), separators=(",", ":")).encode()


class Portability:
    """Exports and imports whole pods."""

    def __init__(self, base_url: str, pods: PodDirectory, resources: ResourceService,
                 log: AccessLog, max_file: int):
        self.base_url, self.pods, self.resources, self.log = base_url, pods, resources, log
        self.max_file = max_file  # the largest resource an import takes (max_body_bytes)
        self._import = PodImport(pods, resources)

    async def export(self, name: str) -> PodExport:
        """Plan the export of pod ``name`` (404 when there is none)."""
        keys = await self.pods.find(name)
        if keys is None:
            raise NotFound(f"there is no pod named {name!r} on this server")
        pod_url = self.resources.url(Target(name, "/"))
        log_url = f"{self.base_url}{LOG_API}?pod={name}"
        return await plan(self.resources.store, keys, pod_url=pod_url,
                          owner=pod_url + "profile/card#me", issuer=self.base_url,
                          log=_LogDays(self.log, keys, log_url))

    async def is_new(self, name: str) -> bool:
        """Whether pod ``name`` exists and holds only what a new pod starts with."""
        keys = await self.pods.find(name)
        return keys is not None and await self._import.is_new(keys)

    async def import_archive(self, name: str, source: BinaryIO, size: int, *,
                             create: bool) -> Imported:
        """Import the archive in ``source`` (``size`` bytes) as pod ``name``: into the new
        pod of that name, or — with ``create`` — as a new pod when there is none. Raises
        :class:`~pod.errors.ArchiveRefused` (nothing written) with the reason."""
        keys = await self.pods.find(name)
        if keys is None and not create:
            raise NotFound(f"there is no pod named {name!r} on this server")
        if keys is not None and not await self._import.is_new(keys):
            raise ArchiveRefused(
                f"the pod {name!r} holds more than a new pod starts with: an archive is "
                "imported only into a new pod (make a new account for it); nothing was written")
        archive = Archive(source, size, max_file=self.max_file)
        try:
            done = await self._import.into(archive, name, replace=keys)
        finally:
            archive.close()
        if keys is not None:
            await self.log.forget(keys.pod_id)  # the replaced pod's buffered records
        return done
