"""Group membership for ``acl:agentGroup`` (WAC §4.3): does a vCard group list a WebID?

A group IRI names a ``vcard:Group`` in a document that lists ``vcard:hasMember`` for it. A
document in one of this server's pods is read by the server itself (no access check: only the
yes/no answer reaches the decision) and its parse is cached by sealed version, so a change
applies on the next request; other documents come through the guarded, caching
:class:`~auth.fetch.Fetcher`. A group that cannot be read grants nothing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from urllib.parse import urlsplit

import pyoxigraph as ox

from auth.fetch import Fetched, Fetcher, FetchError
from pod.errors import PodError
from pod.resources import rdf
from pod.resources.paths import parse_target
from pod.resources.records import RDF, Resource
from pod.store.directory import PodDirectory
from pod.store.sealed import SealedStore

HAS_MEMBER = "http://www.w3.org/2006/vcard/ns#hasMember"
CACHE_SIZE = 1024
GROUP_TYPES = ("text/turtle", "application/ld+json")
_FORMATS = {"text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD}

log = logging.getLogger(__name__)

Members = dict[str, frozenset[str]]  # group IRI → member WebIDs


def members(triples: list[ox.Triple]) -> Members:
    """Every ``vcard:hasMember`` statement of a document, by group."""
    found: dict[str, set[str]] = {}
    for s, p, o in triples:
        if p.value == HAS_MEMBER and isinstance(s, ox.NamedNode) and isinstance(o, ox.NamedNode):
            found.setdefault(s.value, set()).add(o.value)
    return {group: frozenset(webids) for group, webids in found.items()}


class GroupMembership:
    """Answers ``is_member(group, webid)`` for the access decider."""

    def __init__(self, base_url: str, pods: PodDirectory, store: SealedStore, fetcher: Fetcher):
        self.base_url = base_url
        self.pods, self.store, self.fetcher = pods, store, fetcher
        self._local: OrderedDict[tuple[str, bytes], Members] = OrderedDict()
        self._remote: OrderedDict[str, tuple[Fetched, Members]] = OrderedDict()

    async def is_member(self, group: str, webid: str) -> bool:
        """Whether the document of ``group`` lists ``webid`` as its ``vcard:hasMember``."""
        document = group.partition("#")[0]
        try:
            if document.startswith(self.base_url):
                found = await self._local_members(document)
            else:
                found = await self._remote_members(document)
        except (FetchError, PodError, SyntaxError, ValueError) as error:
            log.info("group %s grants nothing: %s", group, error)
            return False
        return webid in found.get(group, ())

    async def _local_members(self, document: str) -> Members:
        path = urlsplit(document).path
        target = parse_target("/" + path.removeprefix(urlsplit(self.base_url).path))
        keys = await self.pods.find(target.pod)
        if keys is None:
            return {}
        async with self.store.read(keys) as reader:
            opened = await reader.get(target.path)
        if opened is None:
            return {}
        cache_key = (document, opened.version)
        found = self._local.get(cache_key)
        if found is None:
            res = Resource.decode(opened.data, opened.version)
            found = {} if res.kind != RDF else members(
                rdf.parse(res.body, res.content_type, document))
            _remember(self._local, cache_key, found)
        return found

    async def _remote_members(self, document: str) -> Members:
        fetched = await self.fetcher.get(document, GROUP_TYPES)
        cached = self._remote.get(document)
        if cached is not None and cached[0] is fetched:
            return cached[1]
        triples = [q.triple for q in ox.parse(fetched.body, _FORMATS[fetched.media_type],
                                              base_iri=fetched.url, without_named_graphs=True)]
        found = members(triples)
        _remember(self._remote, document, (fetched, found))
        return found


def _remember(cache: OrderedDict, key: object, value: object) -> None:
    cache[key] = value
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
