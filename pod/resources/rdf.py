"""RDF parsing and serialisation on the request path, with pyoxigraph.

Parsing untrusted input never reaches the network: pyoxigraph refuses remote JSON-LD contexts
(no document loader is set), and we say so in words the client can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox

from pod.errors import InvalidSyntax, UnsupportedMediaType

TURTLE = "text/turtle"
JSON_LD = "application/ld+json"
N_TRIPLES = "application/n-triples"

FORMATS: dict[str, ox.RdfFormat] = {
    TURTLE: ox.RdfFormat.TURTLE,
    JSON_LD: ox.RdfFormat.JSON_LD,
    N_TRIPLES: ox.RdfFormat.N_TRIPLES,
}
RDF_TYPES = tuple(FORMATS)
PREFIXES = {
    "ldp": "http://www.w3.org/ns/ldp#",
    "acl": "http://www.w3.org/ns/auth/acl#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "solid": "http://www.w3.org/ns/solid/terms#",
    "pim": "http://www.w3.org/ns/pim/space#",
    "dc": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
_POSITION = re.compile(r"line (\d+) between columns (\d+)")


def is_rdf(media_type: str) -> bool:
    return media_type in FORMATS


def parse(body: bytes, media_type: str, base_iri: str) -> list[ox.Triple]:
    """Parse a request body into triples; syntax errors carry line and column."""
    fmt = FORMATS.get(media_type)
    if fmt is None:
        raise UnsupportedMediaType(f"{media_type} is not an RDF syntax this server parses")
    try:
        return [q.triple for q in ox.parse(body, fmt, base_iri=base_iri,
                                           without_named_graphs=True)]
    except SyntaxError as exc:
        raise _syntax_error(exc, media_type) from None


def _syntax_error(exc: SyntaxError, media_type: str) -> InvalidSyntax:
    message = str(exc.msg if exc.msg else exc)
    if "LoadDocumentCallback" in message or "remote context" in message.lower():
        return InvalidSyntax(
            "JSON-LD documents must not reference remote @context URLs: this server never "
            "fetches during parsing. Inline the context object instead."
        )
    match = _POSITION.search(message)
    line = exc.lineno or (int(match[1]) if match else None)
    column = exc.offset or (int(match[2]) if match else None)
    where = f" at line {line}, column {column}" if line else ""
    return InvalidSyntax(f"invalid {media_type}{where}: {message}", line=line, column=column)


def check(body: bytes, media_type: str, base_iri: str) -> None:
    """Validate a body without keeping its triples (cheaper than :func:`parse`)."""
    fmt = FORMATS.get(media_type)
    if fmt is None:
        raise UnsupportedMediaType(f"{media_type} is not an RDF syntax this server parses")
    try:
        for _ in ox.parse(body, fmt, base_iri=base_iri, without_named_graphs=True):
            pass
    except SyntaxError as exc:
        raise _syntax_error(exc, media_type) from None


def serialize(triples: Iterable[ox.Triple], media_type: str) -> bytes:
    """Serialise ``triples`` as ``media_type``; Turtle declares only the prefixes it uses."""
    fmt = FORMATS[media_type]
    if fmt is not ox.RdfFormat.TURTLE:
        return ox.serialize(triples, format=fmt)
    out = ox.serialize(triples, format=fmt, prefixes=PREFIXES)
    head, body = [], out
    while body.startswith(b"@prefix "):
        line, _, body = body.partition(b"\n")
        head.append(line)
    used = [line for line in head if line[8 : line.index(b":") + 1] in body]
    return b"\n".join([*used, body])
