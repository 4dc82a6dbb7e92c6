"""RDF parsing and serialisation on the request path, with pyoxigraph.

Parsing untrusted input never reaches the network. JSON-LD that names its contexts by URL
(Verifiable Credentials do) is read with pyld and a loader that serves only the contexts
bundled in ``vocab/contexts``; any other context URL is refused, in words the client can act
on. Quads in named graphs (a credential's proof) are kept in the stored document but are not
part of its triples.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import pyoxigraph as ox

from pod.errors import InvalidSyntax, UnsupportedMediaType
from vocab.contexts import CONTEXTS, document_loader
from vocab.namespaces import ACL, DCTERMS, FOAF, LDP, NOTIFY, PIM, SOLID, XSD, namespace_of

TURTLE = "text/turtle"
JSON_LD = "application/ld+json"
N_TRIPLES = "application/n-triples"

FORMATS: dict[str, ox.RdfFormat] = {
    TURTLE: ox.RdfFormat.TURTLE,
    JSON_LD: ox.RdfFormat.JSON_LD,
    N_TRIPLES: ox.RdfFormat.N_TRIPLES,
}
RDF_TYPES = tuple(FORMATS)
PREFIXES = {"ldp": namespace_of(LDP), "acl": namespace_of(ACL), "foaf": namespace_of(FOAF),
            "solid": namespace_of(SOLID), "pim": namespace_of(PIM), "dc": namespace_of(DCTERMS),
            "xsd": namespace_of(XSD), "notify": namespace_of(NOTIFY)}
_POSITION = re.compile(r"line (\d+) between columns (\d+)")


def is_rdf(media_type: str) -> bool:
    return media_type in FORMATS


def parse(body: bytes, media_type: str, base_iri: str) -> list[ox.Triple]:
    """Parse a request body into triples; syntax errors carry line and column."""
    return list(_triples(body, media_type, base_iri))


def _triples(body: bytes, media_type: str, base_iri: str) -> Iterator[ox.Triple]:
    fmt = FORMATS.get(media_type)
    if fmt is None:
        raise UnsupportedMediaType(f"{media_type} is not an RDF syntax this server parses")
    if fmt is ox.RdfFormat.JSON_LD and b"@context" in body:
        try:
            document = _context_urls_bundled(body)
        except RecursionError:
            raise InvalidSyntax("invalid application/ld+json: nested too deeply") from None
        if document is not None:
            yield from _bundled_json_ld(document, base_iri)
            return
    try:
        for quad in ox.parse(body, fmt, base_iri=base_iri, without_named_graphs=True):
            yield quad.triple
    except SyntaxError as exc:
        raise _syntax_error(exc, media_type) from None


def _context_urls(node: Any) -> Iterator[str]:
    """Every context URL a JSON-LD document names, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                for ctx in value if isinstance(value, list) else [value]:
                    if isinstance(ctx, str):
                        yield ctx
                    else:
                        yield from _context_urls(ctx)
            else:
                yield from _context_urls(value)
    elif isinstance(node, list):
        for item in node:
            yield from _context_urls(item)


def _context_urls_bundled(body: bytes) -> Any | None:
    """The parsed document when it names context URLs, all of them bundled; ``None`` when it
    names none; :class:`InvalidSyntax` when it names one this server does not bundle."""
    try:
        document = json.loads(body)
    except ValueError:
        return None  # pyoxigraph reports the syntax error with its position
    urls = set(_context_urls(document))
    if not urls:
        return None
    unknown = sorted(urls - CONTEXTS.keys())
    if unknown:
        raise InvalidSyntax(
            f"the JSON-LD context {unknown[0]} is not one this server bundles, and it never "
            "fetches contexts while parsing. Inline the context object instead; bundled: "
            + ", ".join(sorted(CONTEXTS)))
    return document


def _bundled_json_ld(document: Any, base_iri: str) -> Iterator[ox.Triple]:
    from pyld import jsonld  # imported on first use (apps/sdk/statements/cryptosuite.py says why)

    try:
        nquads = jsonld.to_rdf(document, {"base": base_iri, "format": "application/n-quads",
                                          "documentLoader": document_loader})
    except RecursionError:
        raise InvalidSyntax("invalid application/ld+json: nested too deeply") from None
    except Exception as exc:  # pyld raises JsonLdError and, on odd input, plain errors
        raise InvalidSyntax(f"invalid application/ld+json: {exc}") from None
    for quad in ox.parse(nquads.encode(), ox.RdfFormat.N_QUADS):
        if quad.graph_name == ox.DefaultGraph():
            yield quad.triple


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
    for _ in _triples(body, media_type, base_iri):
        pass


def serialize(triples: Iterable[ox.Triple], media_type: str) -> bytes:
    """Serialise ``triples`` as ``media_type``; Turtle declares only the prefixes it uses."""
    fmt = FORMATS[media_type]
    out = ox.serialize(triples, format=fmt, prefixes=PREFIXES if fmt is ox.RdfFormat.TURTLE
                       else None)
    assert out is not None  # given no output to write to, pyoxigraph returns the bytes
    if fmt is not ox.RdfFormat.TURTLE:
        return out
    head, body = [], out
    while body.startswith(b"@prefix "):
        line, _, body = body.partition(b"\n")
        head.append(line)
    used = [line for line in head if line[8 : line.index(b":") + 1] in body]
    return b"\n".join([*used, body])
