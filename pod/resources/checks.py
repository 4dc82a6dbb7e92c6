"""What a write into a checked container must pass, done in one worker job.

A container the owner's type index registers for a class with a SHACL shape takes only data
that fits it (:mod:`pod.resources.shapes`); one registered for signed statements takes only
statements whose proof verifies. The costly, pure parts — parsing the body, the shape check,
and the proof's canonicalisation (:attr:`WriteChecks.proof`, wired in from
``pod.statements``) — run together in one job of a worker process, under one budget: one
round trip to the worker instead of three, and the triples parsed once. The proof's keys are
then resolved on the event loop by whoever made the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from pod.errors import PayloadTooLarge
from pod.resources import rdf, shapes

BUDGET = 10.0
"""Seconds of work parsing and checking one document may take, in a worker process."""
WHAT = "checking this document"

ProofJob = Callable[[bytes], object]
"""The pure part of a statement's proof check (picklable: a module-level function)."""


@dataclass(frozen=True)
class WriteChecks:
    """The checks a write into one container must pass: the shaped classes it is registered
    for, and ``proof`` when it is registered for signed statements. ``where`` is the
    container's URL, for the messages."""

    where: str
    shaped: frozenset[str]
    proof: ProofJob | None = None


def check_triples(triples: list[ox.Triple], body: bytes, media_type: str, checks: WriteChecks
                  ) -> object | None:
    """Check parsed ``triples`` (of ``body``) against their shapes, then prepare the proof's
    check; its result, or ``None`` when no proof is checked (only JSON-LD carries one)."""
    if checks.shaped:
        if len(triples) > shapes.MAX_TRIPLES:
            raise PayloadTooLarge(
                f"a document in a container registered for a class with a shape may hold at "
                f"most {shapes.MAX_TRIPLES} triples; this one has {len(triples)}")
        shapes.check(triples, checks.shaped, checks.where)
    if checks.proof is None or media_type != rdf.JSON_LD:
        return None
    return checks.proof(body)


def parse_and_check(body: bytes, media_type: str, base: str, checks: WriteChecks
                    ) -> tuple[list[ox.Triple], object | None]:
    """Parse an untrusted RDF ``body`` and check it: its triples and the prepared proof
    check."""
    triples = rdf.parse(body, media_type, base)
    return triples, check_triples(triples, body, media_type, checks)
