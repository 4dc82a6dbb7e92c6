"""Names for the IRIs the owner's pages show — people by their profile's name, apps by the
name the owner saw when consenting or the one they registered with — found without reaching
another server.

Looking a name up elsewhere when the owner opens a page would tell that server when the owner
looks (a visitor who knocked on the pod could watch for its log being read), so only what this
server holds is read: profiles of its pods (as an anonymous GET would read them), its registered
clients and Client ID Documents, and the owner's own grants. Anything else keeps no name here;
pages then show a short form of the IRI, with the IRI itself one click away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from auth.oidc.clients import ID_PREFIX, Clients
from auth.people import People
from pod.access.grants import Grant, client_id_of


class Names:
    """Finds names for WebIDs and apps on this server."""

    def __init__(self, people: People, clients: Clients):
        self.people_, self.clients = people, clients

    async def people(self, webids: Iterable[str | None]) -> dict[str, str]:
        """The profile names of the WebIDs of this server among ``webids``."""
        local = sorted({w for w in webids if w and self.people_.documents.hosts(w)})
        found = await asyncio.gather(*(self.people_.name(w) for w in local))
        return {w: n for w, n in zip(local, found, strict=True) if n}

    async def apps(self, client_ids: Iterable[str | None], grants: Iterable[Grant] = ()
                   ) -> dict[str, str]:
        """Names of apps by client id: the title of the owner's grant to each (the name shown
        on the consent screen), else a registered client's or a local Client ID Document's
        ``client_name``."""
        names: dict[str, str] = {}
        for grant in sorted(grants, key=lambda g: g.issued):
            for app in grant.apps:
                if grant.title:
                    names[client_id_of(app)] = grant.title
        for client_id in sorted({c for c in client_ids if c and c not in names}):
            if client_id.startswith(ID_PREFIX) or self.people_.documents.hosts(client_id):
                info = await self.clients.find(client_id)
                if info is not None and info.client_name:
                    names[client_id] = info.client_name
        return names


__all__ = ["Names"]
