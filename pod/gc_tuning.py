"""The garbage collector tuned for a long-running server (issue #16).

With CPython's default thresholds a server whose caches hold many objects — thousands of pods'
keys, ACLs and journal states — runs a full collection every few seconds, and each one scans
the whole heap: measured 90-200 ms pauses every ~2 s with traffic over 10,000 pods, which were
its p99 latency (bench/spread.py, docs/benchmarks.md). After start-up the objects made so far
(modules, templates, the runtime) are moved out of the collector's sight with
:func:`gc.freeze`, and the young generation is collected every 50,000 allocations instead of
700, so that full collections are rare: the same run had no pause over 22 ms. Reference cycles
are still collected; they wait a little longer.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)
"""Allocations before a young collection, young collections before a middle one, middle ones
before a full one (CPython also waits until a quarter of the long-lived objects are new)."""


def settle_after_start_up() -> None:
    """Collect what start-up left behind, freeze the rest and set :data:`THRESHOLDS`."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
