"""Typed records for the Commonpod classes, read from and written to RDF with the vocabulary's
terms (docs/vocabulary.md, docs/contributions.md, docs/statements.md).

- :class:`Contribution` — a ValueFlows economic event (``cp:Contribution``, action ``vf:work``)
- :class:`Appreciation` — thanks for a contribution (``vf:Appreciation``)
- :class:`RewardStatement` — an Open Badges 3.0 badge (``cp:RewardStatement``)
- :class:`ReputationStatement` — a reputation score with its derivation
  (``cp:ReputationStatement``)

``Record.from_graph(graph, node)`` reads one; ``Record.all_in(graph)`` every instance in a graph
(a document, or a bulk read of many), ``Record.invalid_in(graph)`` why the others are not
records, ``Record.read_all(graph)`` both at once; ``record.to_graph()`` the triples to write.
Statements are credentials: ``to_credential()`` gives the unsigned JSON-LD
(:mod:`apps.sdk.statements.builders`), ``signed(...)`` the signed one, ``from_credential(...)``
reads one as a document holds it.
A value that cannot be a record (a missing name, a relative IRI) is a ``ValueError``.
"""

from apps.sdk.records.base import PLACEHOLDER, Record
from apps.sdk.records.credentials import (
    EvidenceItem,
    ReputationStatement,
    RewardStatement,
    Statement,
)
from apps.sdk.records.valueflows import Appreciation, Contribution, Effort

#: class IRI → record type, for reading a bulk read into records
RECORD_TYPES: dict[str, type[Record]] = {
    t.cls: t for t in (Contribution, Appreciation, RewardStatement, ReputationStatement)}

__all__ = ["PLACEHOLDER", "RECORD_TYPES", "Appreciation", "Contribution", "Effort", "EvidenceItem",
           "Record", "ReputationStatement", "RewardStatement", "Statement"]
