"""Unsigned statements in the shapes docs/vocabulary.md defines, ready for :func:`sign`.

Pure functions: no I/O, no key material. Each returns a JSON-LD credential whose terms are all
defined by bundled contexts or an embedded one, so it canonicalises in safe mode.

- :func:`reward_statement`: an Open Badges 3.0 ``OpenBadgeCredential`` (OB 3.0 §4.2, §B.1.1
  AchievementCredential, §B.1.2 AchievementSubject, §B.1.3 Achievement, §B.1.5 Criteria,
  §B.1.6 Evidence, §B.2.6 Profile) with the extra type ``cp:RewardStatement``.
- :func:`reputation_statement`: a VC 2.0 credential (VC Data Model 2.0 §4) typed
  ``cp:ReputationStatement`` whose subject carries a ``schema:AggregateRating`` with its PROV-O
  derivation (PROV-O §3.1 starting point terms, §3.3 qualified terms).
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from vocab.contexts import CREDENTIALS_V2, OPEN_BADGES_V3
from vocab.namespaces import PROV, SCHEMA, XSD, iri_of, namespace_of
from vocab.terms import CP, NAMESPACE

REWARD_STATEMENT = iri_of(CP.RewardStatement)

#: the embedded context of a reputation statement: every term it uses, nothing fetched
REPUTATION_CONTEXT: dict[str, Any] = {
    "cp": NAMESPACE,
    "schema": namespace_of(SCHEMA),
    "prov": namespace_of(PROV),
    "xsd": namespace_of(XSD),
    "ReputationStatement": "cp:ReputationStatement",
    "reputation": {"@id": "cp:reputation", "@type": "@id"},
    "AggregateRating": "schema:AggregateRating",
    "author": {"@id": "schema:author", "@type": "@id"},
    "ratingValue": "schema:ratingValue",
    "worstRating": "schema:worstRating",
    "bestRating": "schema:bestRating",
    "ratingCount": {"@id": "schema:ratingCount", "@type": "xsd:integer"},
    "ratingExplanation": "schema:ratingExplanation",
    "Entity": "prov:Entity",
    "Activity": "prov:Activity",
    "Association": "prov:Association",
    "Plan": "prov:Plan",
    "wasGeneratedBy": {"@id": "prov:wasGeneratedBy", "@type": "@id"},
    "wasDerivedFrom": {"@id": "prov:wasDerivedFrom", "@type": "@id"},
    "used": {"@id": "prov:used", "@type": "@id"},
    "endedAtTime": {"@id": "prov:endedAtTime", "@type": "xsd:dateTime"},
    "wasAssociatedWith": {"@id": "prov:wasAssociatedWith", "@type": "@id"},
    "qualifiedAssociation": {"@id": "prov:qualifiedAssociation", "@type": "@id"},
    "agent": {"@id": "prov:agent", "@type": "@id"},
    "hadPlan": {"@id": "prov:hadPlan", "@type": "@id"},
}

#: the term a reputation statement that supersedes another adds to its embedded context
REVISION_TERM: dict[str, Any] = {
    "wasRevisionOf": {"@id": iri_of(PROV.wasRevisionOf), "@type": "@id"}}

#: an absolute IRI (RFC 3987 §2.2: a scheme, then no whitespace or delimiters JSON-LD rejects)
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+")


def _text(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is missing or blank")
    return value.strip()


def _iri(name: str, value: object) -> str:
    text = _text(name, value)
    if not _IRI.fullmatch(text):
        raise ValueError(f"{name} must be an absolute IRI, not {text!r}")
    return text


def _when(name: str, value: object) -> str:
    """An XML Schema dateTime in UTC with a ``Z`` (VC Data Model 2.0 §4.9)."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} is a naive datetime; give it a time zone")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _period(valid_from: datetime | None, valid_until: datetime | None) -> dict[str, str]:
    period = {}
    if valid_from is not None:
        period["validFrom"] = _when("valid_from", valid_from)
    if valid_until is not None:
        period["validUntil"] = _when("valid_until", valid_until)
        if valid_from is not None and valid_until <= valid_from:
            raise ValueError("valid_until must be later than valid_from")
    return period


def _credential_id(credential_id: str | None) -> str:
    return f"urn:uuid:{uuid.uuid4()}" if credential_id is None else _iri(
        "credential_id", credential_id)


def _number(name: str, value: object) -> int | dict[str, str]:
    """A number as JSON-LD: an ``int`` natively (``xsd:integer``), anything else an
    ``xsd:decimal`` value object — never a JSON float, which JSON-LD makes ``xsd:double``."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(f"{name} must be a number, not {value!r}")
    if isinstance(value, int):
        return value
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, not {value}")
    digits = format(Decimal(repr(value)) if isinstance(value, float) else value, "f")
    return {"@value": digits if "." in digits else digits + ".0", "@type": "xsd:decimal"}


def reward_statement(*, issuer: str, issuer_name: str, subject: str, achievement_id: str,
                     name: str, description: str, criteria: str, evidence: Sequence[dict[str, str]],
                     valid_from: datetime | None = None, valid_until: datetime | None = None,
                     credential_id: str | None = None, image: str | None = None,
                     status: dict[str, Any] | None = None, criteria_id: str | None = None
                     ) -> dict[str, Any]:
    """An unsigned reward statement: an OB 3.0 ``OpenBadgeCredential`` awarding the
    ``Achievement`` ``achievement_id`` (with ``name``, ``description`` and the ``criteria``
    narrative) to the WebID ``subject``, issued by the ``Profile`` ``issuer``, with each
    ``evidence`` item (``{"id", "name"}``) as OB ``Evidence``.

    ``valid_from`` defaults to now, since OB 3.0 requires it; ``credential_id`` to a fresh
    ``urn:uuid``; ``image`` is the badge image URL; ``status`` a ``credentialStatus`` entry
    (:func:`apps.sdk.statements.status.status_entry`) so the issuer can revoke it;
    ``criteria_id`` the URL of the criteria document (OB 3.0 §B.1.5, e.g. the rules version).
    ``ValueError`` names a missing or blank value, a relative IRI or a naive datetime.
    """
    issuer, subject = _iri("issuer", issuer), _iri("subject", subject)
    achievement: dict[str, Any] = {
        "id": _iri("achievement_id", achievement_id),
        "type": ["Achievement"],
        "name": _text("name", name),
        "description": _text("description", description),
        "criteria": {"narrative": _text("criteria", criteria)},
    }
    if criteria_id is not None:
        achievement["criteria"] = {"id": _iri("criteria_id", criteria_id),
                                   **achievement["criteria"]}
    if image is not None:
        achievement["image"] = {"id": _iri("image", image), "type": "Image"}
    items = []
    for i, item in enumerate(evidence):
        if not isinstance(item, dict):
            raise ValueError(f"evidence[{i}] must be an object with 'id' and 'name'")
        items.append({"id": _iri(f"evidence[{i}].id", item.get("id")), "type": ["Evidence"],
                      "name": _text(f"evidence[{i}].name", item.get("name"))})
    if valid_from is None:
        valid_from = datetime.now(UTC).replace(microsecond=0)
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, OPEN_BADGES_V3],
        "id": _credential_id(credential_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential", REWARD_STATEMENT],
        "issuer": {"id": issuer, "type": ["Profile"],
                   "name": _text("issuer_name", issuer_name)},
        **_period(valid_from, valid_until),
        "name": achievement["name"],
        "credentialSubject": {"id": subject, "type": ["AchievementSubject"],
                              "achievement": achievement},
    }
    if items:
        credential["evidence"] = items
    if status is not None:
        credential["credentialStatus"] = dict(status)
    return credential


def reputation_statement(*, issuer: str, subject: str, score: float | Decimal,
                         worst: float | Decimal, best: float | Decimal, count: int,
                         explanation: str, method: str,
                         method_name: str, derived_from: Sequence[str], generated_at: datetime,
                         valid_from: datetime, valid_until: datetime | None = None,
                         credential_id: str | None = None, language: str = "en",
                         revision_of: str | None = None) -> dict[str, Any]:
    """An unsigned reputation statement (docs/vocabulary.md, ``cp:ReputationStatement``).

    The member ``subject`` has ``cp:reputation`` ``<id>#score``: a ``schema:AggregateRating``
    and ``prov:Entity`` authored by ``issuer``, worth ``score`` on the scale ``worst`` ..
    ``best`` over ``count`` ratings, explained in ``explanation`` (text in ``language``). It
    was generated at ``generated_at`` by the activity ``<id>#scoring``, which used the
    ``derived_from`` inputs following the ``prov:Plan`` ``method`` (named ``method_name``).

    ``revision_of`` names the statement this one supersedes (``prov:wasRevisionOf``, its
    context term added only then); the earlier one stays as it was, and verifiable.

    Numbers given as ``int`` are ``xsd:integer``, others ``xsd:decimal``. ``ValueError`` names
    a missing or blank value, a relative IRI, a naive datetime or a score off the scale.
    """
    issuer, subject = _iri("issuer", issuer), _iri("subject", subject)
    node_id = _credential_id(credential_id)
    values = {"score": score, "worst": worst, "best": best}
    numbers = {k: _number(k, v) for k, v in values.items()}
    if not worst < best:
        raise ValueError(f"worst ({worst}) must be lower than best ({best})")
    if not worst <= score <= best:
        raise ValueError(f"score {score} is not between worst ({worst}) and best ({best})")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"count must be a non-negative integer, not {count!r}")
    if isinstance(derived_from, str) or not derived_from:
        raise ValueError("derived_from must list the IRIs of the inputs (at least one)")
    inputs = [_iri(f"derived_from[{i}]", v) for i, v in enumerate(derived_from)]
    if not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", language or ""):
        raise ValueError(f"language must be a BCP 47 tag, not {language!r}")

    def text(name: str, value: str) -> dict[str, str]:
        return {"@value": _text(name, value), "@language": language}

    rating = {
        "id": f"{node_id}#score",
        "type": ["AggregateRating", "Entity"],
        "author": issuer,
        "ratingValue": numbers["score"],
        "worstRating": numbers["worst"],
        "bestRating": numbers["best"],
        "ratingCount": count,
        "ratingExplanation": text("explanation", explanation),
        "wasGeneratedBy": {
            "id": f"{node_id}#scoring",
            "type": "Activity",
            "used": inputs,
            "endedAtTime": _when("generated_at", generated_at),
            "wasAssociatedWith": issuer,
            "qualifiedAssociation": {
                "type": "Association",
                "agent": issuer,
                "hadPlan": {"id": _iri("method", method), "type": "Plan",
                            "name": text("method_name", method_name)},
            },
        },
        "wasDerivedFrom": inputs,
    }
    credential = {
        "@context": [CREDENTIALS_V2, REPUTATION_CONTEXT],
        "id": node_id,
        "type": ["VerifiableCredential", "ReputationStatement"],
        "issuer": issuer,
        **_period(_required("valid_from", valid_from), valid_until),
        "credentialSubject": {"id": subject, "reputation": rating},
    }
    if revision_of is not None:
        credential["@context"] = [CREDENTIALS_V2, {**REPUTATION_CONTEXT, **REVISION_TERM}]
        credential["wasRevisionOf"] = _iri("revision_of", revision_of)
    return credential


def _required(name: str, value: datetime | None) -> datetime:
    if value is None:
        raise ValueError(f"{name} is missing")
    return value
