"""A small cache of parsed RDF documents, keyed by pod, path and sealed version.

Documents that are patched or read as JSON-LD again and again (a shared list, a profile being
edited) skip re-parsing while their version is unchanged; any write gives a new version, so
a stale entry can never be served. Bounded, in memory only: nothing here reaches the store.
"""

from __future__ import annotations

from collections import OrderedDict

import pyoxigraph as ox

Key = tuple[bytes, str, bytes]


class GraphCache:
    """Least-recently-used map from (pod id, path, version) to a document's triples."""

    def __init__(self, size: int = 256):
        self._size = size
        self._graphs: OrderedDict[Key, tuple[ox.Triple, ...]] = OrderedDict()

    def get(self, key: Key) -> tuple[ox.Triple, ...] | None:
        graph = self._graphs.get(key)
        if graph is not None:
            self._graphs.move_to_end(key)
        return graph

    def put(self, key: Key, triples: tuple[ox.Triple, ...]) -> None:
        self._graphs[key] = triples
        if len(self._graphs) > self._size:
            self._graphs.popitem(last=False)
