"""Which containers a pod's owner registered for which classes (Solid Type Indexes).

The registrations come from the owner's profile (``/profile/card``): its public type index,
and the private type index named by its preferences file. Only documents inside the same pod
count. Registrations are cached per pod, each kept while the documents it came from are
unchanged (their versions checked at each use), so a change to a type index — through any
process sharing the store — applies to the very next write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from pod.store.sealed import SealedReader
from pod.store.sourced import SourcedCache
from vocab.namespaces import PIM, SOLID, iri_of

PROFILE = "/profile/card"
_PUBLIC_INDEX, _PRIVATE_INDEX = iri_of(SOLID.publicTypeIndex), iri_of(SOLID.privateTypeIndex)
_PREFERENCES = iri_of(PIM.preferencesFile)
_FOR_CLASS = iri_of(SOLID.forClass)
_INSTANCE_CONTAINER, _INSTANCE = iri_of(SOLID.instanceContainer), iri_of(SOLID.instance)

#: reads a document of the pod by path through a reader: its triples, or ``None`` when it
#: does not exist
ReadGraph = Callable[[SealedReader, str], Awaitable[list[ox.Triple] | None]]


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
    """Per-pod cache of type-index registrations, for the ``size`` pods used most recently,
    each kept while the documents it came from are unchanged (checked at each use, so a change
    made through any process sharing the store applies to the next write)."""

    def __init__(self, size: int = 50_000) -> None:
        self._cache: SourcedCache[Registrations] = SourcedCache(size)

    def touched(self, pod_id: bytes, path: str) -> None:
        """Call after every write of this process: forget registrations that came from
        ``path`` (sparing the next use its check)."""
        kept = self._cache.peek(pod_id)
        if kept is not None and path in kept.sources:
            self._cache.drop(pod_id)

    async def registrations(self, pod_id: bytes, pod_url: str, reader: SealedReader,
                            read: ReadGraph) -> Registrations:
        """The pod's registrations (``pod_url`` ends with ``/``); ``read(reader, path)``
        reads one of its documents."""
        async def build(recording: SealedReader) -> Registrations:
            return await _collect(pod_url, lambda path: read(recording, path))

        return await self._cache.get(pod_id, reader, build)


def _local(pod_url: str, iri: str) -> str | None:
    """The path inside the pod of an IRI (fragment dropped), or ``None`` if elsewhere."""
    iri = iri.split("#", 1)[0]
    return "/" + iri[len(pod_url):] if iri.startswith(pod_url) else None


async def _collect(pod_url: str, read: Callable[[str], Awaitable[list[ox.Triple] | None]]
                   ) -> Registrations:
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
