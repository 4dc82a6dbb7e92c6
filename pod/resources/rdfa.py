"""RDFa in stored HTML and XHTML documents, read as RDF (HTML+RDFa 1.1, RDFa Core 1.1 §7).

An HTML or XHTML document asked for as Turtle, JSON-LD or N-Triples is converted, as the
Community Solid Server does, instead of answering 406. The RDFa is read by pyRdfa (pyrdfa3),
pure Python whose cost a document's author can drive, so it runs in a worker process under
:data:`BUDGET` (:mod:`pod.resources.workers`); the triples are cached by the document's sealed
version (:class:`~pod.resources.graphs.GraphCache`), so a document is converted once per write.

Nothing here reaches the network: pyRdfa is given the bytes (a string would be taken for a URL
to fetch or a file to open), vocabulary expansion — which fetches each ``@vocab`` — is off, and
while it runs the worker refuses every connection and name lookup (a Python audit hook), so a
later pyRdfa that fetched something new would fail instead of fetching. Embedded Turtle and
RDF/XML (a pyRdfa extension, not RDFa) are not read.
"""

from __future__ import annotations

import io
import sys
from typing import Any

import pyoxigraph as ox

from pod.errors import NotAcceptable
from pod.resources.graphs import GraphCache
from pod.resources.workers import Workers

HOST_TYPES = ("text/html", "application/xhtml+xml")
BUDGET = 10.0
"""Seconds of work reading one document's RDFa may take."""
NETWORK_EVENTS = frozenset({
    "socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
    "socket.gethostbyaddr", "socket.getnameinfo", "socket.sendto", "socket.sendmsg",
    "urllib.Request",
})

_offline = False
_hooked = False


class NetworkRefused(PermissionError):
    """pyRdfa tried to reach the network."""


def hosts_rdfa(media_type: str | None) -> bool:
    """Whether documents of ``media_type`` are read for RDFa."""
    return media_type in HOST_TYPES


def _refuse_network(event: str, args: tuple[Any, ...]) -> None:
    if _offline and event in NETWORK_EVENTS:
        raise NetworkRefused(f"reading RDFa never uses the network ({event})")


def _quiet(*_: object) -> None:
    """An exception hook that prints nothing (the job's caller reports the error)."""


def _offline_from_now() -> None:
    global _hooked, _offline
    if not _hooked:  # audit hooks cannot be removed: one per worker process, off between jobs
        sys.addaudithook(_refuse_network)
        _hooked = True
    _offline = True


def extract(body: bytes, media_type: str, base: str) -> bytes:
    """The RDFa of a document as N-Triples (run in a worker: see :class:`Rdfa`)."""
    global _offline
    from pyRdfa import Options, pyRdfa

    options = Options(output_default_graph=True, output_processor_graph=False,
                      embedded_rdf=False, vocab_expansion=False, vocab_cache=False)
    _offline_from_now()
    excepthook, sys.excepthook = sys.excepthook, _quiet  # pyRdfa prints what it then raises
    try:
        graph = pyRdfa(options, base=base, media_type=media_type).graph_from_source(
            io.BytesIO(body), rdfOutput=False)
        triples: bytes = graph.serialize(format="nt", encoding="utf-8")  # given an encoding
        return triples
    except RecursionError:
        raise  # the worker pool answers it (422)
    except Exception as exc:  # pyRdfa and its parsers raise anything on odd input (and
        # NetworkRefused, should a later pyRdfa try to fetch)
        raise NotAcceptable(f"the RDFa of this {media_type} document cannot be read "
                            f"({exc.__class__.__name__}); ask for {media_type}") from None
    finally:
        _offline, sys.excepthook = False, excepthook


class Rdfa:
    """Converts stored HTML/XHTML documents to triples in workers, cached by version."""

    def __init__(self, workers: Workers, cache_size: int = 64):
        self.workers = workers
        self._graphs = GraphCache(cache_size)

    async def triples(self, key: tuple[bytes, str, bytes], body: bytes, media_type: str,
                      url: str) -> tuple[ox.Triple, ...]:
        """The triples of the document ``body`` at ``url``; ``key`` is (pod id, path,
        version)."""
        found = self._graphs.get(key)
        if found is None:
            nt = await self.workers.run(extract, body, media_type, url, budget=BUDGET,
                                        what="reading the RDFa of this document")
            found = tuple(ox.parse(nt, ox.RdfFormat.N_TRIPLES))
            self._graphs.put(key, found)
        return found
