"""The ``eddsa-rdfc-2022`` cryptosuite (W3C vc-di-eddsa §3.3): transformation, proof
configuration, hashing and the Ed25519 signature.

Transformation is JSON-LD → RDF → RDFC-1.0 canonical N-Quads, with only the bundled contexts:
a context that is not bundled is an error, never a fetch. pyld expands the document, converts
it to RDF (JSON-LD 1.1 API §8.2, with ``rdfDirection: "i18n-datatype"`` as VC Data Model 2.0
advises and jsonld.js does, so a text's base direction is signed too) and labels the blank
nodes (its URDNA2015, which RDFC-1.0 standardised unchanged); the quads are written here in
RDFC-1.0's canonical N-Quads form (:mod:`apps.sdk.statements.nquads`), which pyld's own writer does
not escape.

It runs in *safe mode* (VC Data Integrity 1.0 requires transformation to fail rather than
drop data, w3c/vc-data-integrity#131; jsonld.js calls this ``safeMode``): the document is
expanded first, and a property no context defines, or a relative IRI as an ``@id``, ``@type``
or property, an IRI or blank node identifier with white space in it, or a language tag that
is not BCP 47, is an error — JSON-LD would otherwise drop it silently (or resolve it against an
arbitrary base, or write it into the N-Quads unchecked), and the signature would not cover
what the JSON shows.

pyld is imported on first use: its import makes a ``requests`` session for a loader this code
never uses, about 0.3 s that every process importing the SDK or the server would pay.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from vocab.contexts import CREDENTIALS_V2, DATA_INTEGRITY_V2, UnknownContext, document_loader

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


class TransformError(ValueError):
    """A document that cannot be canonicalised; the message says why."""


def _unknown_context(exc: BaseException) -> UnknownContext | None:
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:  # pyld wraps loader errors in JsonLdError, sometimes several deep
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, UnknownContext):
            return e
        stack += [getattr(e, "cause", None), e.__cause__, e.__context__]
        details = getattr(e, "details", None)
        if isinstance(details, dict):
            stack.append(details.get("cause"))
    return None


#: an absolute IRI begins with a scheme (RFC 3987 §2.2); ``_:`` marks a blank node
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
#: white space, which ends an absolute IRI for JSON-LD processors (``^scheme:[^\s]*$``): the
#: union of Python's ``\s`` (pyld drops such an IRI) and ECMAScript's (jsonld.js, which has
#: U+FEFF too, refuses it in safe mode). None of these may appear in an IRI (RFC 3987 §2.2).
_WHITE = re.compile(r"[\s\ufeff]")
#: a well-formed language tag, as jsonld.js checks it (BCP 47's syntax, loosely)
_LANGUAGE_TAG = re.compile(r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*")
#: the base expansion resolves relative IRIs against, so that they can be found afterwards
#: (pyld would otherwise resolve them against http://example.org/base/); an @base in a
#: @context still applies
_SENTINEL = "x-relative-iri:"
_BASE = _SENTINEL + "//relative/"
_UNCOVERED = "so a signature could not cover it"


def _relative(iri: str) -> str | None:
    """The relative IRI that expanded to ``iri``, or ``None`` if it is absolute (or a blank
    node identifier)."""
    if iri.startswith(_SENTINEL):
        return iri.removeprefix(_BASE) if iri.startswith(_BASE) else iri[len(_SENTINEL):]
    if iri.startswith("_:") or _ABSOLUTE.match(iri):
        return None
    return iri


def _check_white(what: str, iri: str) -> None:
    """Refuse an IRI (or blank node identifier) with white space in it: no IRI has any, and
    JSON-LD → RDF drops it (pyld) or refuses it (jsonld.js in safe mode)."""
    if (found := _WHITE.search(iri)) is not None:
        raise TransformError(f"the {what} {iri!r} is not a valid IRI: it contains "
                             f"U+{ord(found.group()):04X}, a white space or separator character, "
                             f"{_UNCOVERED}")


def _check_literal(item: dict[str, Any]) -> None:
    """Refuse a language tag that is not well formed: it is written into the N-Quads (or into
    the i18n datatype IRI, JSON-LD 1.1 API §8.6) as it is."""
    language = item.get("@language")
    if language is not None and not (isinstance(language, str)
                                     and _LANGUAGE_TAG.fullmatch(language)):
        raise TransformError(f"the language tag {language!r} is not a valid BCP 47 tag, "
                             f"{_UNCOVERED}")


def _check_expanded(node: Any) -> None:
    """Refuse relative or malformed IRIs, blank-node predicates and malformed language tags in
    expanded JSON-LD: JSON-LD → RDF (JSON-LD 1.1 API §8.1-8.2) drops them, or pyld resolves
    them against a made-up base or writes them unchecked."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if "@value" in item:
            _check_literal(item)
        for key, value in item.items():
            if key == "@id":
                if isinstance(value, str):
                    _check_white("@id", value)
                    if (rel := _relative(value)) is not None:
                        raise TransformError(f"the @id {rel!r} is a relative IRI and no @base "
                                             f"makes it absolute, {_UNCOVERED}")
            elif key == "@type":
                for t in value if isinstance(value, list) else [value]:
                    if not isinstance(t, str) or t == "@json":
                        continue
                    _check_white("type", t)
                    if (rel := _relative(t)) is not None:
                        raise TransformError(f"the type {rel!r} is not defined by any "
                                             f"@context (it is a relative IRI), {_UNCOVERED}")
            elif key == "@value":
                continue  # a literal, possibly @json: nothing inside is RDF
            elif not key.startswith("@"):
                if key.startswith("_:"):
                    raise TransformError(f"the property {key!r} is a blank node, which RDF "
                                         f"does not allow as a predicate, {_UNCOVERED}")
                _check_white("property", key)
                if (rel := _relative(key)) is not None:
                    _dropped(rel)
                stack.append(value)
            else:  # @graph, @list, @set, @reverse, @included, …
                stack.append(value)


def _dropped(term: str | None) -> None:
    if term is None:
        raise TransformError(f"a term the @context maps to null is used, {_UNCOVERED}")
    if _ABSOLUTE.match(term):  # an IRI that JSON-LD would not take as one
        _check_white("property", term)
    raise TransformError(f"the term {term!r} is not defined by any @context, {_UNCOVERED}")


def expand(document: dict[str, Any]) -> list[Any]:
    """The document in expanded form, in safe mode: ``TransformError`` names any term or IRI
    that would not reach the RDF (bundled contexts only)."""
    from pyld import jsonld

    try:
        expanded: list[Any] = jsonld.expand(
            document, {"documentLoader": document_loader, "base": _BASE},
            on_property_dropped=_dropped)
    except TransformError:
        raise
    except Exception as exc:  # pyld raises JsonLdError and, on bad input, plain errors
        raise _transform_error(exc) from None
    _check_expanded(expanded)
    return expanded


def _transform_error(exc: BaseException) -> TransformError:
    unknown = _unknown_context(exc)
    if unknown is not None:
        return TransformError(str(unknown))
    mine = exc if isinstance(exc, TransformError) else None
    stack: list[Any] = [exc]
    while mine is None and stack:  # our handler's error, wrapped by pyld
        e = stack.pop()
        if isinstance(e, TransformError):
            mine = e
        elif e is not None:
            stack += [getattr(e, "cause", None), e.__cause__, e.__context__]
    return mine or TransformError(f"the document is not valid JSON-LD: {exc}")


def canonicalize(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, in safe mode (see :func:`expand`)."""
    from pyld import jsonld

    from apps.sdk.statements.canon import RDFC10

    expanded = expand(document)
    try:  # from the expanded form: no second pass through the contexts
        dataset = jsonld.to_rdf(expanded, {"documentLoader": document_loader,
                                           "rdfDirection": "i18n-datatype",
                                           "produceGeneralizedRdf": False})
        return RDFC10().canonical_nquads(dataset)
    except Exception as exc:
        raise _transform_error(exc) from None


def check_datetime(value: object) -> datetime:
    """An XML Schema dateTime with a time zone, as an aware datetime."""
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(f"{value!r} is not an XML Schema dateTime")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an XML Schema dateTime") from None
    if when.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return when


def proof_configuration(options: dict[str, Any], context: Any) -> str:
    """Canonical proof configuration (vc-di-eddsa §3.3.5): the proof options without
    ``proofValue``, under the document's ``@context``."""
    config = {k: v for k, v in options.items() if k != "proofValue"}
    if config.get("type") != PROOF_TYPE or config.get("cryptosuite") != CRYPTOSUITE:
        raise TransformError(f"the proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if "created" in config:
        try:
            check_datetime(config["created"])
        except ValueError as exc:
            raise TransformError(f"the proof's 'created' is invalid: {exc}") from None
    config["@context"] = context
    try:
        try:
            key = json.dumps(config, sort_keys=True)
        except (TypeError, ValueError):  # not JSON (a caller's own objects): not kept
            return canonicalize(config)
        return _canonical_configuration(key)
    except TransformError as exc:
        raise TransformError(f"the proof options cannot be expressed under the credential's "
                             f"@context ({exc}); a credential whose @context is not "
                             f"{CREDENTIALS_V2} needs {DATA_INTEGRITY_V2} in it") from None


@lru_cache(maxsize=256)
def _canonical_configuration(config: str) -> str:
    """:func:`canonicalize` of a proof configuration (JSON text), kept: statements signed or
    checked in a batch share their options (issuer key, purpose, second of creation) and
    their context, and the context's processing is most of the cost."""
    return canonicalize(json.loads(config))


def hash_data(canonical_config: str, canonical_document: str) -> bytes:
    """SHA-256(proof configuration) ‖ SHA-256(document) (vc-di-eddsa §3.3.4)."""
    return (hashlib.sha256(canonical_config.encode("utf-8")).digest()
            + hashlib.sha256(canonical_document.encode("utf-8")).digest())


def sign_bytes(data: bytes, seed: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``data`` by the key with this 32-byte seed."""
    return SigningKey(seed).sign(data).signature


def verify_bytes(data: bytes, signature: bytes, public_key: bytes) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``data`` by ``public_key``."""
    try:
        VerifyKey(public_key).verify(data, signature)
    except (BadSignatureError, ValueError):
        return False
    return True
