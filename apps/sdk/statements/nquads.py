"""Quads in the canonical N-Quads form of RDF Dataset Canonicalization (RDFC-1.0 §5 and
Appendix A; RDF 1.2 N-Quads §"canonical N-Quads").

Each code point has one spelling. In a literal, BS, HT, LF, FF, CR, ``"`` and ``\\`` are
ECHAR (``\\b`` … ``\\\\``), the other controls U+0000–U+001F and U+007F are UCHAR (``\\u0001``,
upper-case hex), everything else is written as it is. An IRI is written between ``<`` and
``>``; the code points IRIREF does not allow as they are (U+0000–U+0020, ``<>"{}|^`\\``) can
only be written as UCHAR. Without this escaping two different datasets could be written as
the same text, and a signature over one would verify the other.

The quads are pyld's RDF dataset form (``{"subject": {"type": "IRI", "value": …}, …}``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from vocab.namespaces import RDF, XSD, iri_of

XSD_STRING = iri_of(XSD.string)
RDF_LANGSTRING = iri_of(RDF.langString)

_IRI_ESCAPED = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LITERAL_ESCAPED = re.compile(r'[\x00-\x1f\x7f"\\]')
_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"',
          "\\": "\\\\"}


def _uchar(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04X}"


def _echar_or_uchar(match: re.Match[str]) -> str:
    return _ECHAR.get(match.group()) or _uchar(match)


def iri(value: str) -> str:
    """An IRI as a canonical N-Quads IRIREF."""
    return f"<{_IRI_ESCAPED.sub(_uchar, value)}>"


def literal(value: str) -> str:
    """A lexical form as a canonical N-Quads STRING_LITERAL_QUOTE."""
    return f'"{_LITERAL_ESCAPED.sub(_echar_or_uchar, value)}"'


def _term(term: dict[str, Any], label: Callable[[str], str]) -> str:
    kind = term["type"]
    if kind == "IRI":
        return iri(term["value"])
    if kind == "blank node":
        return label(term["value"])
    text = literal(term["value"])
    datatype = term.get("datatype", XSD_STRING)
    if datatype == RDF_LANGSTRING and term.get("language"):
        return f"{text}@{term['language']}"
    if datatype != XSD_STRING:
        return f"{text}^^{iri(datatype)}"
    return text


def quad_line(quad: dict[str, Any], label: Callable[[str], str]) -> str:
    """One quad as a canonical N-Quads line (with its newline); ``label`` gives each blank
    node identifier its written form (``_:c14n0``, or ``_:a``/``_:z`` when hashing)."""
    parts = [_term(quad["subject"], label), iri(quad["predicate"]["value"]),
             _term(quad["object"], label)]
    name = quad.get("name")
    if name is not None and name.get("value") is not None:
        parts.append(_term(name, label))
    return " ".join(parts) + " .\n"
