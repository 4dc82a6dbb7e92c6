"""The documents that publish statement issuers' keys, for the server's key resolver
(:class:`pod.statements.resolver.KeyResolver`).

:meth:`IssuerDocuments.local` reads a document of one of this server's pods from the store as
an anonymous GET would (:mod:`pod.access.documents`: public documents only, never over the
network to itself). :meth:`IssuerDocuments.remote` fetches any other document through the
guarded :class:`~auth.fetch.Fetcher`; its detailed failure (addresses, errors) goes to the
log, and the client learns only that the document could not be fetched.
"""

from __future__ import annotations

import logging

from auth.fetch import Fetcher, FetchError
from pod.access.documents import LocalDocuments, Unreadable
from pod.statements.resolver import DOCUMENT_TYPES, STATUS_LIST_TYPES, Document, NotResolved

log = logging.getLogger(__name__)


class IssuerDocuments:
    """Reads issuers' documents: this server's from the store, others' through the fetcher."""

    def __init__(self, documents: LocalDocuments, fetcher: Fetcher):
        self.documents, self.fetcher = documents, fetcher

    async def local(self, url: str) -> Document | None:
        """The RDF document at ``url`` (on this server) if anyone may read it, else ``None``."""
        try:
            doc = await self.documents.read(url, groups=False)
        except Unreadable:
            return None
        return (doc.url, doc.media_type, doc.body) if doc.is_rdf else None

    async def remote(self, url: str) -> Document:
        """The document at ``url`` on another server; :class:`NotResolved` in general words."""
        return await self._fetch(url, DOCUMENT_TYPES)

    async def remote_status_list(self, url: str) -> Document:
        """The status list credential at ``url`` on another server, as JSON-LD."""
        return await self._fetch(url, STATUS_LIST_TYPES)

    async def _fetch(self, url: str, media_types: tuple[str, ...]) -> Document:
        try:
            fetched = await self.fetcher.get(url, media_types)
        except FetchError as error:
            log.info("an issuer's document could not be fetched: %s", error)
            raise NotResolved("it could not be fetched from its server") from None
        return fetched.url, fetched.media_type, fetched.body
