"""Telling someone that something was shared with them: an Activity Streams ``Announce`` in
their inbox (Linked Data Notifications, W3C Rec. 2017 §4; Activity Streams 2.0 vocabulary).

The notification names the sharer (``as:actor``), the resource (``as:object``), the person
(``as:target``), the modes given (``acl:mode``), a sentence (``as:summary``) and the time
(``as:published``), in Turtle, which every Solid server reads. Where it goes is the
``ldp:inbox`` of the person's profile.

How it is delivered — a choice: the server never signs requests as its users.
* An inbox on this server is written through the resource service, as the sharer's WebID: a
  POST by them, decided by WAC as any (a new pod's inbox takes appends from anyone signed
  in), and recorded in the recipient's access log like one.
* An inbox elsewhere gets an anonymous POST through the guarded fetcher — delivered only if
  that inbox takes notifications from anyone. Signing in there as the sharer would need a
  token the server would have to mint on its own; it does not. A refused or failed delivery
  is reported as not delivered, with the reason, for the sharer to see (and tell the person
  another way); the sharing itself stands.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pyoxigraph as ox

from auth.fetch import Fetcher, FetchError, FetchRefused
from pod.access.agent import Agent
from pod.access.audit import AccessLog, utc_iso
from pod.access.modes import Mode
from pod.access.reading import ReadService
from pod.errors import PodError
from pod.resources import rdf
from pod.resources.paths import parse_target
from pod.resources.service import ResourceService
from pod.store.directory import PodDirectory
from vocab.namespaces import ACL, AS, RDF, XSD

log = logging.getLogger(__name__)
_MODES = {Mode.READ: ACL.Read, Mode.APPEND: ACL.Append, Mode.WRITE: ACL.Write}
_WORDS = {Mode.READ: "see", Mode.APPEND: "add to", Mode.WRITE: "change"}


#: why a notification was not delivered, by code (pages name the code, never free text)
REASONS = {
    "no-inbox": "their profile names no inbox",
    "no-such-inbox": "their inbox does not exist",
    "refused": "their inbox does not take notifications from you",
    "signed-in-only": "their inbox takes notifications only from people signed in there, "
                      "which this server does not do for you",
    "unreachable": "their inbox could not be reached",
    "not-contacted": "their inbox is at an address this server does not contact",
    "failed": "their inbox did not accept it",
}


@dataclass(frozen=True, slots=True)
class Delivery:
    """Whether the notification reached the person's inbox, and if not, why (a code of
    :data:`REASONS`)."""

    delivered: bool
    code: str = ""

    @property
    def reason(self) -> str:
        return REASONS.get(self.code, "")


def announcement(actor: str, actor_name: str, resource: str, recipient: str,
                 modes: frozenset[Mode], at: float | None = None) -> bytes:
    """The notification's Turtle: one ``as:Announce``."""
    node = ox.BlankNode()
    what = " and ".join(_WORDS[m] for m in Mode if m in modes and m in _WORDS)
    triples = [
        ox.Triple(node, ox.NamedNode(str(RDF.type)), ox.NamedNode(str(AS.Announce))),
        ox.Triple(node, ox.NamedNode(str(AS.actor)), ox.NamedNode(actor)),
        ox.Triple(node, ox.NamedNode(str(AS.object)), ox.NamedNode(resource)),
        ox.Triple(node, ox.NamedNode(str(AS.target)), ox.NamedNode(recipient)),
        ox.Triple(node, ox.NamedNode(str(AS.summary)),
                  ox.Literal(f"{actor_name} shared {resource} with you: you may {what} it.")),
        ox.Triple(node, ox.NamedNode(str(AS.published)),
                  ox.Literal(utc_iso(at if at is not None else time.time()),
                             datatype=ox.NamedNode(str(XSD.dateTime)))),
    ]
    triples += [ox.Triple(node, ox.NamedNode(str(ACL.mode)), ox.NamedNode(str(_MODES[m])))
                for m in Mode if m in modes and m in _MODES]
    return rdf.serialize(triples, rdf.TURTLE)


class Notifier:
    """Delivers sharing notifications to inboxes, here or elsewhere."""

    def __init__(self, base_url: str, pods: PodDirectory, reads: ReadService,
                 resources: ResourceService, log: AccessLog, fetcher: Fetcher):
        self.base_url = base_url
        self.pods, self.reads, self.resources, self.log = pods, reads, resources, log
        self.fetcher = fetcher

    async def deliver(self, sender: Agent, inbox: str | None, body: bytes) -> Delivery:
        """Put ``body`` (a notification from ``sender``) into ``inbox``."""
        if inbox is None:
            return Delivery(False, "no-inbox")
        if inbox.startswith(self.base_url):
            return await self._local(sender, inbox, body)
        return await self._remote(inbox, body)

    async def _local(self, sender: Agent, inbox: str, body: bytes) -> Delivery:
        try:
            target = parse_target("/" + inbox[len(self.base_url):].partition("?")[0])
        except PodError:
            return Delivery(False, "no-such-inbox")
        keys = await self.pods.find(target.pod)
        if keys is None or not target.is_container:
            return Delivery(False, "no-such-inbox")
        decision = await self.reads.decide_write(keys, target, sender, "POST")
        status = 201
        try:
            decision.require()
            await self.resources.post(keys, target, body, rdf.TURTLE, None, False)
            return Delivery(True)
        except PodError as error:
            status = error.status
            return Delivery(False, "refused" if status in (401, 403) else "failed")
        finally:
            self.log.record_request(keys, self.reads.access.owner(target.pod), sender, inbox,
                                    "append", "POST", status, decision.grant)

    async def _remote(self, inbox: str, body: bytes) -> Delivery:
        try:
            status = await self.fetcher.post(inbox, body, rdf.TURTLE)
        except FetchRefused:
            return Delivery(False, "not-contacted")
        except FetchError as error:
            log.info("notification to %s not delivered: %s", inbox, error)
            return Delivery(False, "unreachable")
        if 200 <= status < 300:
            return Delivery(True)
        if status in (401, 403):
            return Delivery(False, "signed-in-only")
        log.info("notification to %s not delivered: %s answered", inbox, status)
        return Delivery(False, "failed")
