"""CPU-heavy work on untrusted input, in worker processes under a time budget.

Parsing a SPARQL Update or an N3 Patch with rdflib, or checking a document against its SHACL
shape with pyshacl, is pure Python whose cost a client can drive far beyond its body's size. A
thread could not be stopped, and would hold the interpreter lock the event loop needs, so such
jobs run in a small pool of worker processes (pebble): a job that outlives its budget is killed
with its process — the pool starts a fresh one — and the client gets 422. The pool starts on
first use (command-line tools that never parse a patch start no process) and takes a bounded
queue: past it, 503 with ``Retry-After`` rather than an unbounded wait.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from pod.errors import PodError, ServiceUnavailable, TooCostly

T = TypeVar("T")
log = logging.getLogger(__name__)
QUEUE_PER_WORKER = 8
PRELOAD = ["pod.resources.checks", "pod.resources.patch", "pod.resources.rdfa",
           "pod.statements.checking", "pyshacl", "rdflib.plugins.sparql.algebra",
           "rdflib.plugins.sparql.parser", "pyld.jsonld", "pyRdfa", "apps.sdk.statements.canon"]
"""What the forkserver imports once, before forking the workers: the jobs' modules and the
parsers they import on first use. A worker starts with them loaded (a fresh one too, after a job
over budget was killed), so no job spends its budget importing them."""


class Workers:
    """A lazily started pool of worker processes for budgeted jobs."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size or max(1, min(2, os.cpu_count() or 1))
        self._pool: ProcessPool | None = None
        self._pending = 0

    def _started(self) -> ProcessPool:
        if self._pool is None:  # forkserver: workers never inherit the server's sockets or DB
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            self._pool = ProcessPool(max_workers=self.size, context=context)
        return self._pool

    async def run(self, fn: Callable[..., T], *args: Any, budget: float, what: str) -> T:
        """``fn(*args)`` in a worker; :class:`TooCostly` (422) when it runs over ``budget``
        seconds or its process dies, its own :class:`PodError` as raised."""
        if self._pending >= self.size * QUEUE_PER_WORKER:
            raise ServiceUnavailable("the server is busy with other costly requests",
                                     headers={"Retry-After": "5"})
        self._pending += 1
        try:
            future = self._started().schedule(fn, args=args, timeout=budget)
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise TooCostly(f"{what} took longer than this server allows ({budget:g} s of "
                            "work)") from None
        except ProcessExpired:
            raise TooCostly(f"{what} could not be completed within this server's "
                            "limits") from None
        except BrokenProcessPool:  # the workers could not start: try a fresh pool next time
            log.exception("worker processes failed")
            self._pool = None
            raise ServiceUnavailable("the server could not start a worker process",
                                     headers={"Retry-After": "5"}) from None
        except PodError:
            raise
        except RecursionError:
            raise TooCostly(f"{what} is nested too deeply") from None
        finally:
            self._pending -= 1

    async def close(self) -> None:
        """Stop the workers; jobs still running are abandoned."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            await asyncio.to_thread(pool.join, 5)

