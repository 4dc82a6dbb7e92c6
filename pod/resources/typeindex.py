"""Which containers a pod's owner registered for which classes (Solid Type Indexes).

The registrations come from the owner's profile (``/profile/card``): its public type index,
and the private type index named by its preferences file. Only documents inside the same pod
count. Registrations are cached per pod and dropped when a write touches any document they
came from, so a change to a type index applies to the very next write.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pyoxigraph as ox
from cachetools import LRUCache

from vocab.namespaces import PIM, SOLID, iri_of

PROFILE = "/profile/card"
_PUBLIC_INDEX, _PRIVATE_INDEX = iri_of(SOLID.publicTypeIndex), iri_of(SOLID.privateTypeIndex)
_PREFERENCES = iri_of(PIM.preferencesFile)
_FOR_CLASS = iri_of(SOLID.forClass)
_INSTANCE_CONTAINER, _INSTANCE = iri_of(SOLID.instanceContainer), iri_of(SOLID.instance)

#: reads a document of the pod by path: its triples, or ``None`` when it does not exist
ReadGraph = Callable[[str], Awaitable[list[ox.Triple] | None]]


@dataclass(frozen=True)
class Registrations:
    """Containers and single resources registered for classes, as paths inside the pod."""

    containers: dict[str, frozenset[str]] = field(default_factory=dict)
    instances: dict[str, frozenset[str]] = field(default_factory=dict)
    sources: frozenset[str] = frozenset()

    def classes_for(self, path: str) -> set[str]:
        """Classes whose instances ``path`` is expected to hold."""
        found = set(self.instances.get(path, ()))
        for container, classes in self.containers.items():
            if path.startswith(container) and path != container:
                found |= classes
        return found


def _objects(triples: list[ox.Triple], subject: str, predicate: str) -> list[str]:
    return [t.object.value for t in triples if isinstance(t.object, ox.NamedNode)
            and not isinstance(t.subject, ox.Triple) and t.subject.value == subject
            and t.predicate.value == predicate]


class TypeIndexes:
    """Per-pod cache of type-index registrations, for the ``size`` pods used most recently
    (stamped against racing writes as :class:`~pod.access.grants.GrantIndex` is)."""

    def __init__(self, size: int = 50_000) -> None:
        self._cached: LRUCache[bytes, Registrations] = LRUCache(size)
        self._generation: LRUCache[bytes, int] = LRUCache(size)
        self._stamps = itertools.count(1)

    def touched(self, pod_id: bytes, path: str) -> None:
        """Call after every write: forget registrations that came from ``path``."""
        cached = self._cached.get(pod_id)
        if cached is None or path in cached.sources:
            self._cached.pop(pod_id, None)
            self._generation[pod_id] = next(self._stamps)

    async def registrations(self, pod_id: bytes, pod_url: str, read: ReadGraph) -> Registrations:
        """The pod's registrations (``pod_url`` ends with ``/``)."""
        cached = self._cached.get(pod_id)
        if cached is not None:
            return cached
        generation = self._generation.get(pod_id, 0)
        found = await _collect(pod_url, read)
        if self._generation.get(pod_id, 0) == generation:  # no write raced the reading
            self._cached[pod_id] = found
        return found


def _local(pod_url: str, iri: str) -> str | None:
    """The path inside the pod of an IRI (fragment dropped), or ``None`` if elsewhere."""
    iri = iri.split("#", 1)[0]
    return "/" + iri[len(pod_url):] if iri.startswith(pod_url) else None


async def _collect(pod_url: str, read: ReadGraph) -> Registrations:
    webid = pod_url + PROFILE[1:] + "#me"
    sources = {PROFILE}
    profile = await read(PROFILE) or []
    indexes = _objects(profile, webid, _PUBLIC_INDEX)
    for prefs in _objects(profile, webid, _PREFERENCES):
        path = _local(pod_url, prefs)
        if path:
            sources.add(path)
            indexes += _objects(await read(path) or [], webid, _PRIVATE_INDEX)
    containers: dict[str, set[str]] = {}
    instances: dict[str, set[str]] = {}
    for index in indexes:
        path = _local(pod_url, index)
        if path is None:
            continue
        sources.add(path)
        triples = await read(path) or []
        for reg in {t.subject.value for t in triples if t.predicate.value == _FOR_CLASS
                    and not isinstance(t.subject, ox.Triple)}:
            classes = _objects(triples, reg, _FOR_CLASS)
            for target, into in ((_INSTANCE_CONTAINER, containers), (_INSTANCE, instances)):
                for iri in _objects(triples, reg, target):
                    where = _local(pod_url, iri)
                    if where:
                        into.setdefault(where, set()).update(classes)
    return Registrations({k: frozenset(v) for k, v in containers.items() if k.endswith("/")},
                         {k: frozenset(v) for k, v in instances.items()}, frozenset(sources))
