"""Group membership for ``acl:agentGroup`` (WAC §4.3): does a vCard group list a WebID?

A group IRI names a ``vcard:Group`` in a document that lists ``vcard:hasMember`` for it. A
document in one of this server's pods counts only if the owner of the pod whose ACL names the
group may read it (WAC, and the grants its owner gave them; groups named in the group
document's own ACL do not count here, so checks never recurse). Otherwise anyone could name
someone else's private group in an ACL of their own pod and learn its members from who gets
in. The check runs on every request; the parse is cached by sealed version, so a change of
either applies on the next request. Other documents come through the guarded, caching
:class:`~auth.fetch.Fetcher`, which reads only what is public. A group that cannot be read
grants nothing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TypeVar

import pyoxigraph as ox

from auth.fetch import Fetched, Fetcher, FetchError
from pod.access.agent import Agent
from pod.access.documents import LocalDocuments, Unreadable
from pod.errors import PodError
from pod.resources import rdf
from vocab.namespaces import VCARD, iri_of

HAS_MEMBER = iri_of(VCARD.hasMember)
CACHE_SIZE = 1024
K = TypeVar("K")
V = TypeVar("V")
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
    """Answers ``is_member(group, webid, owner)`` for the access decider."""

    def __init__(self, documents: LocalDocuments, fetcher: Fetcher):
        self.documents, self.fetcher = documents, fetcher
        self._local: OrderedDict[tuple[str, bytes], Members] = OrderedDict()
        self._remote: OrderedDict[str, tuple[Fetched, Members]] = OrderedDict()

    async def is_member(self, group: str, webid: str, owner: str) -> bool:
        """Whether the document of ``group`` lists ``webid`` as its ``vcard:hasMember``, as
        far as ``owner`` — who named the group in an ACL of their pod — may read it."""
        document = group.partition("#")[0]
        try:
            if self.documents.hosts(document):
                found = await self._local_members(document, owner)
            else:
                found = await self._remote_members(document)
        except (FetchError, Unreadable, PodError, SyntaxError, ValueError) as error:
            log.info("group %s grants nothing: %s", group, error)
            return False
        return webid in found.get(group, ())

    async def _local_members(self, document: str, owner: str) -> Members:
        """The members a group document of this server lists, read as ``owner`` may read it
        (groups in its own ACL not counting)."""
        doc = await self.documents.read(document, Agent(webid=owner), groups=False)
        cache_key = (document, doc.version)
        found = self._local.get(cache_key)
        if found is None:
            found = members(rdf.parse(doc.body, doc.media_type, document)) if doc.is_rdf else {}
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


def _remember(cache: OrderedDict[K, V], key: K, value: V) -> None:
    cache[key] = value
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
