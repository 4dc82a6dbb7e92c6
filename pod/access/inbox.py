"""What was shared with someone, read from their inbox ("shared with you" on the dashboard).

Notifications (Activity Streams ``as:Announce`` or ``as:Offer`` naming an ``as:object``) are
read from the person's inbox as they may read it. Anyone signed in may append to an inbox, so
a notification is a claim, not a fact: one about a resource of this server counts only when
the person can read that resource now (a claim we can disprove is not shown, and a share
since taken back drops out); one about a resource elsewhere is shown as not checked.
At most :data:`MAX_READ` notifications are read, newest shown first.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pyoxigraph as ox

from pod.access.agent import Agent
from pod.access.reading import ReadService
from pod.errors import PodError
from pod.resources import rdf
from pod.resources.paths import Target, parse_target
from pod.resources.records import RDF
from pod.store.sealed import PodKeys
from vocab.namespaces import ACL, AS
from vocab.namespaces import RDF as RDF_NS

MAX_READ = 200
KINDS = (ox.NamedNode(str(AS.Announce)), ox.NamedNode(str(AS.Offer)))
TYPE = ox.NamedNode(str(RDF_NS.type))
MODES = {str(ACL.Read): "read", str(ACL.Append): "append", str(ACL.Write): "write"}
FindPod = Callable[[str], Awaitable[PodKeys | None]]


@dataclass(frozen=True, slots=True)
class SharedItem:
    """One resource someone says they shared with you."""

    resource: str
    actor: str | None  # who says they shared it (the notification's as:actor)
    modes: tuple[str, ...]  # "read", "append", "write" as the notification names them
    published: float | None  # unix time
    summary: str | None
    checked: bool  # on this server, and you can read it now
    notification: str  # the inbox document it came from


async def shared_with(reads: ReadService, find_pod: FindPod, pod: str, webid: str, *,
                      inbox: str = "/inbox/", limit: int = 20) -> list[SharedItem]:
    """What was shared with ``webid`` (the owner of ``pod``) by notifications in their inbox
    (``inbox``, a container path of ``pod``), newest first, at most ``limit``."""
    keys = await find_pod(pod)
    if keys is None:
        return []
    agent = Agent(webid=webid)
    found = await reads.get(keys, Target(pod, inbox), agent)
    if not found.decision.allowed or found.resource is None:
        return []
    items: list[SharedItem] = []
    base = reads.resources.base_url
    for name in [m for m in found.members if not m.endswith("/")][:MAX_READ]:
        target = Target(pod, inbox + name)
        doc = await reads.get(keys, target, agent)
        if doc.resource is None or doc.resource.kind != RDF:
            continue
        url = reads.resources.url(target)
        for item in _items(doc.resource.body, doc.resource.content_type, url):
            local = item.resource.startswith(base)
            if local and not await _readable(reads, find_pod, base, item.resource, agent):
                continue
            items.append(SharedItem(item.resource, item.actor, item.modes, item.published,
                                    item.summary, local, url))
    items.sort(key=lambda i: i.published or 0.0, reverse=True)
    return items[:limit]


def _items(body: bytes, media_type: str, url: str) -> list[SharedItem]:
    """The notifications in one inbox document (one that does not parse holds none). JSON-LD
    is read by pyoxigraph alone: a stranger's document never costs a context expansion."""
    try:
        fmt = rdf.FORMATS[media_type.split(";")[0].strip()]
        triples = [q.triple for q in ox.parse(body, fmt, base_iri=url,
                                              without_named_graphs=True)]
    except (KeyError, SyntaxError, ValueError):
        return []
    out = []
    for node in {t.subject for t in triples if t.predicate == TYPE and t.object in KINDS}:
        about = [t for t in triples if t.subject == node]
        obj = _first(about, str(AS.object))
        if not isinstance(obj, ox.NamedNode):
            continue
        actor = _first(about, str(AS.actor))
        summary = _first(about, str(AS.summary))
        modes = tuple(sorted({MODES[t.object.value] for t in about
                              if t.predicate.value == str(ACL.mode)
                              and t.object.value in MODES}))
        out.append(SharedItem(
            obj.value, actor.value if isinstance(actor, ox.NamedNode) else None, modes,
            _time(_first(about, str(AS.published))),
            summary.value[:500] if isinstance(summary, ox.Literal) else None, False, url))
    return out


def _first(triples: list[ox.Triple], predicate: str) -> object:
    return next((t.object for t in triples if t.predicate.value == predicate), None)


def _time(value: object) -> float | None:
    if not isinstance(value, ox.Literal):
        return None
    try:
        return float(calendar.timegm(time.strptime(value.value[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


async def _readable(reads: ReadService, find_pod: FindPod, base: str, url: str,
                    agent: Agent) -> bool:
    try:
        target = parse_target("/" + url[len(base):].partition("#")[0].partition("?")[0])
    except PodError:
        return False
    keys = await find_pod(target.pod)
    if keys is None:
        return False
    decision = await reads.decide_read(keys, target, agent)
    return decision.allowed
