"""RDFC-1.0 (RDF Dataset Canonicalization) on pyld's URDNA2015, which RDFC-1.0 standardised
unchanged, with the quads written in canonical N-Quads form (:mod:`apps.sdk.statements.nquads`).
Imported only when a statement is canonicalised (``cryptosuite.canonicalize``).
"""

from __future__ import annotations

from typing import Any

from pyld.canon import URDNA2015

from apps.sdk.statements.nquads import quad_line


class RDFC10(URDNA2015):  # type: ignore[misc]  # pyld ships no types: URDNA2015 is Any
    """RDFC-1.0 (§4.4): pyld's URDNA2015 labels the blank nodes; every quad it hashes (§4.6
    Hash First Degree Quads) and the result (§4.4.3 step 7, §5) are written here in canonical
    N-Quads form, which pyld's writer does not escape. §4.7's related predicate stays the
    predicate's IRI as it is, as the algorithm says."""

    def hash_first_degree_quads(self, id_: str) -> str:
        info = self.blank_node_info[id_]
        if "hash" not in info:
            def label(blank: str) -> str:
                return "_:a" if blank == id_ else "_:z"
            info["hash"] = self.hash_nquads(sorted(quad_line(q, label) for q in info["quads"]))
        digest: str = info["hash"]
        return digest

    def canonical_nquads(self, dataset: dict[str, Any]) -> str:
        """The canonical N-Quads document of a pyld RDF dataset (RDFC-1.0 §4.4.3, §5)."""
        self.main(dataset, {"format": "application/n-quads"})  # issues the canonical labels
        issuer = self.canonical_issuer

        def label(blank: str) -> str:  # main() relabels the quads in place; be sure of it
            return blank if blank.startswith(issuer.prefix) else issuer.get_id(blank)

        return "".join(sorted(quad_line(q, label) for q in self.quads))
