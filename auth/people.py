"""Who a WebID or a group IRI names: their profile or group document, read before anything
is shared with them (Solid WebID Profile §2; WAC §4.3 for groups).

A WebID resolves when its document — on this server, read from the store as an anonymous GET
would (:mod:`pod.access.documents`); elsewhere, fetched through the guarded fetcher — is RDF
that says something about the WebID itself. Its name (``foaf:name``, ``vcard:fn``) and inbox
(``ldp:inbox``) come from there. A group resolves when its document, read as the owner who
names it in an ACL may read it (as :mod:`auth.groups` does), describes it as a
``vcard:Group`` or lists its members. Anything else is refused, with the reason in words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import pyoxigraph as ox

from auth.fetch import Fetcher, FetchError
from pod.access.agent import ANONYMOUS, Agent
from pod.access.documents import LocalDocuments, Unreadable
from pod.errors import PodError
from pod.resources import rdf
from vocab.namespaces import FOAF, LDP, RDF, VCARD

PROFILE_TYPES = ("text/turtle", "application/ld+json")
NAMES = (ox.NamedNode(str(FOAF.name)), ox.NamedNode(str(VCARD.fn)))
INBOX = ox.NamedNode(str(LDP.inbox))
TYPE = ox.NamedNode(str(RDF.type))
GROUP = ox.NamedNode(str(VCARD.Group))
HAS_MEMBER = ox.NamedNode(str(VCARD.hasMember))

log = logging.getLogger(__name__)


class Unresolved(ValueError):
    """A WebID or group that does not resolve; the message says why, for the person who
    typed it."""


@dataclass(frozen=True, slots=True)
class Person:
    webid: str
    name: str | None
    inbox: str | None


@dataclass(frozen=True, slots=True)
class Group:
    iri: str
    name: str | None
    members: int


def _checked_iri(value: str, what: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > 2048 \
            or any(c <= " " or c in '<>"{}|\\^`' for c in value):
        raise Unresolved(f"a {what} is an http(s) address, such as "
                         "https://pod.example/name/profile/card#me")
    try:
        ox.NamedNode(value)
    except ValueError:
        raise Unresolved(f"{value} is not a valid address") from None
    return value


def _name(triples: list[ox.Triple], subject: ox.NamedNode) -> str | None:
    for predicate in NAMES:
        for t in triples:
            if t.subject == subject and t.predicate == predicate and \
                    isinstance(t.object, ox.Literal) and t.object.value.strip():
                return t.object.value.strip()[:200]
    return None


class People:
    """Resolves WebIDs and groups, locally or through the guarded fetcher."""

    def __init__(self, documents: LocalDocuments, fetcher: Fetcher):
        self.documents, self.fetcher = documents, fetcher

    async def person(self, webid: str) -> Person:
        """The profile behind ``webid``; raises :class:`Unresolved`."""
        webid = _checked_iri(webid, "WebID")
        triples = await self._triples(webid, ANONYMOUS, "WebID")
        me = ox.NamedNode(webid)
        if not any(t.subject == me for t in triples):
            raise Unresolved(f"the document of {webid} says nothing about it: it is no WebID")
        inbox = next((t.object.value for t in triples if t.subject == me
                      and t.predicate == INBOX and isinstance(t.object, ox.NamedNode)), None)
        return Person(webid, _name(triples, me), inbox)

    async def group(self, iri: str, owner: str) -> Group:
        """The group ``iri`` as ``owner`` may read it; raises :class:`Unresolved`."""
        iri = _checked_iri(iri, "group")
        triples = await self._triples(iri, Agent(webid=owner), "group")
        node = ox.NamedNode(iri)
        members = sum(1 for t in triples if t.subject == node and t.predicate == HAS_MEMBER)
        typed = any(t.subject == node and t.predicate == TYPE and t.object == GROUP
                    for t in triples)
        if not (typed or members):
            raise Unresolved(f"{iri} is no vcard:Group with members")
        return Group(iri, _name(triples, node), members)

    async def name(self, webid: str) -> str | None:
        """The name a WebID's profile gives, if it resolves (for showing people by name)."""
        try:
            return (await self.person(webid)).name
        except Unresolved:
            return None

    async def _triples(self, iri: str, agent: Agent, what: str) -> list[ox.Triple]:
        document = iri.partition("#")[0]
        try:
            if self.documents.hosts(document):
                doc = await self.documents.read(document, agent, groups=False)
                if not doc.is_rdf:
                    raise Unresolved(f"the document of this {what} is not RDF")
                return rdf.parse(doc.body, doc.media_type, document)
            fetched = await self.fetcher.get(document, PROFILE_TYPES)
            return rdf.parse(fetched.body, fetched.media_type, fetched.url)
        except Unreadable as error:
            raise Unresolved(f"this {what} does not resolve: {error}") from None
        except FetchError as error:
            log.info("%s %s does not resolve: %s", what, iri, error)
            raise Unresolved(f"{document} could not be read as a {what}'s document (it does "
                             "not answer, or not with Turtle or JSON-LD)") from None
        except PodError as error:
            raise Unresolved(f"the document of this {what} is not valid RDF: {error.detail}") \
                from None
