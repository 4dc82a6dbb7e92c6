"""Moving RDF from one pod's URL to another's (imports).

Every IRI under the old pod's URL is rewritten to the same path under the new pod's URL, and
a WebID of the new pod that named the old server as its OpenID issuer (``solid:oidcIssuer``)
now names this server — the owner signs in here. IRIs elsewhere, literals and blank nodes are
kept. Only IRIs are rewritten, as triples, never as text.

A Turtle document keeps its bytes when it says the same read at its new URL — it used only
relative IRIs, the usual case — since parsing it twice, at the old and at the new URL, gives
the same triples in the same order once rewritten (the text is the same, only its base
differs). Otherwise it is stored as the Turtle of the rewritten triples: isomorphic to what
was exported, with the IRIs moved. JSON-LD documents are never rewritten: they may be signed
(a credential's proof covers its exact statements), so they keep their bytes and are read at
their new URL like any other document; their absolute IRIs of the old pod stay as they were.
"""

from __future__ import annotations

import pyoxigraph as ox

from pod.resources import rdf
from vocab.namespaces import SOLID

OIDC_ISSUER = ox.NamedNode(str(SOLID.oidcIssuer))

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


class Rebase:
    """Old pod URL → new pod URL (and old issuer → this server, for the new pod's WebIDs)."""

    def __init__(self, old_pod: str, new_pod: str, old_issuer: str, new_issuer: str):
        self.old_pod, self.new_pod = old_pod, new_pod
        self.old_issuer, self.new_issuer = old_issuer, new_issuer

    @property
    def moves(self) -> bool:
        return self.old_pod != self.new_pod or self.old_issuer != self.new_issuer

    def iri(self, value: str) -> str:
        if value.startswith(self.old_pod):
            return self.new_pod + value[len(self.old_pod):]
        return value

    def term(self, term: Term) -> Term:
        if isinstance(term, ox.NamedNode):
            moved = self.iri(term.value)
            return term if moved == term.value else ox.NamedNode(moved)
        return term

    def triple(self, triple: ox.Triple) -> ox.Triple:
        s, p, o = (self.term(t) for t in (triple.subject, triple.predicate, triple.object))
        if p == OIDC_ISSUER and isinstance(o, ox.NamedNode) and o.value == self.old_issuer \
                and isinstance(s, ox.NamedNode) and s.value.startswith(self.new_pod):
            o = ox.NamedNode(self.new_issuer)
        return ox.Triple(s, p, o)  # type: ignore[arg-type]

    def turtle(self, body: bytes, old_url: str, new_url: str) -> bytes:
        """A Turtle document of the old pod at ``old_url``, as stored at ``new_url``:
        the same bytes when they say the same there, else the rewritten triples."""
        before = rdf.parse(body, rdf.TURTLE, old_url)
        moved = [self.triple(t) for t in before]
        if not self.moves or _same(moved, rdf.parse(body, rdf.TURTLE, new_url)):
            return body
        return rdf.serialize(moved, rdf.TURTLE) if moved else b""


def _same(expected: list[ox.Triple], found: list[ox.Triple]) -> bool:
    """The same triples in the same order, blank nodes matched one to one."""
    if len(expected) != len(found):
        return False
    pairs: dict[str, str] = {}
    back: dict[str, str] = {}
    for a, b in zip(expected, found, strict=True):
        for x, y in ((a.subject, b.subject), (a.predicate, b.predicate), (a.object, b.object)):
            if isinstance(x, ox.BlankNode) and isinstance(y, ox.BlankNode):
                if pairs.setdefault(x.value, y.value) != y.value or \
                        back.setdefault(y.value, x.value) != x.value:
                    return False
            elif x != y:
                return False
    return True
