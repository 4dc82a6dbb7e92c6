"""Reading and writing the community's documents in its own pod, through the SDK.

Writes are serialised by one lock in this process and made safe against other writers with
ETags (``If-Match``; ``If-None-Match: *`` for a document not there yet): a write that loses a
race is read again and retried, never lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from apps.sdk import Graph, NotFound, PodClient, PreconditionFailed
from apps.shared_view import model

FOLDER = "shared-view/"
T = TypeVar("T")


class CommunityPod:
    """The app's documents in the community's pod, read and written as the community."""

    def __init__(self, client: PodClient, pod: str, folder: str = FOLDER) -> None:
        self.client = client
        self.pod = pod
        self.folder = pod + folder
        self.settings_doc = self.folder + "community.ttl"
        self.members_doc = self.folder + "members.ttl"
        self.ledger_doc = self.folder + "ledger.ttl"
        self.client_id = self.folder + "app.json"
        self._lock = asyncio.Lock()

    async def read_document(self, url: str) -> tuple[Graph, str | None]:
        """The graph at ``url`` and its ETag (an empty graph and ``None`` when absent)."""
        try:
            got = await self.client.get(url, accept="text/turtle")
        except NotFound:
            return Graph(), None
        return got.graph(), got.etag

    async def update_document(self, url: str, change: Callable[[Graph], Graph]) -> Graph:
        """Read ``url``, write ``change(graph)`` back only over the version read; retried
        when another writer came first."""
        async with self._lock:
            for _ in range(5):
                graph, etag = await self.read_document(url)
                new = change(graph)
                try:
                    if etag is None:
                        await self.client.put(url, new.to_turtle(), content_type="text/turtle",
                                              if_none_match="*")
                    else:
                        await self.client.put(url, new.to_turtle(), content_type="text/turtle",
                                              if_match=etag)
                    return new
                except PreconditionFailed:
                    continue
        raise RuntimeError(f"{url} kept changing while the app wrote it")

    # --- settings -------------------------------------------------------------------------

    async def settings(self) -> model.Settings | None:
        """The community's settings, or ``None`` before they are first written."""
        graph, etag = await self.read_document(self.settings_doc)
        return model.settings_from(self.settings_doc, graph) if etag is not None else None

    async def save_settings(self, settings: model.Settings) -> None:
        await self.update_document(self.settings_doc,
                           lambda _: model.settings_graph(self.settings_doc, settings))

    # --- members --------------------------------------------------------------------------

    async def members(self) -> dict[str, model.Member]:
        """The members, by WebID."""
        graph, _ = await self.read_document(self.members_doc)
        return model.members_from(self.members_doc, graph)

    async def _change_members(self, change: Callable[[dict[str, model.Member]], None]
                              ) -> dict[str, model.Member]:
        result: dict[str, model.Member] = {}

        def apply(graph: Graph) -> Graph:
            found = model.members_from(self.members_doc, graph)
            change(found)
            result.clear()
            result.update(found)
            return model.members_graph(self.members_doc, found)

        await self.update_document(self.members_doc, apply)
        return result

    async def add_member(self, member: model.Member) -> None:
        """Record ``member`` (replacing what was recorded of the same WebID)."""
        await self._change_members(lambda found: found.__setitem__(member.webid, member))

    async def remove_members(self, webids: set[str]) -> dict[str, model.Member]:
        """Forget ``webids``; the members left."""
        def drop(found: dict[str, model.Member]) -> None:
            for webid in webids:
                found.pop(webid, None)

        return await self._change_members(drop)

    # --- the privacy-budget ledger ----------------------------------------------------------

    async def ledger(self) -> model.Ledger:
        graph, _ = await self.read_document(self.ledger_doc)
        return model.ledger_from(graph)

    async def record_release(self, release: model.Release) -> model.Ledger:
        """Add ``release`` to the ledger; the ledger after it."""
        result = model.Ledger()

        def apply(graph: Graph) -> Graph:
            ledger = model.ledger_from(graph)
            ledger.releases.append(release)
            result.releases = ledger.releases
            return model.ledger_graph(self.ledger_doc, ledger)

        await self.update_document(self.ledger_doc, apply)
        return result
