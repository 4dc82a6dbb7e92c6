"""Issue #9 §7: the canonical form Commonpod signs is RDFC-1.0's on edge inputs, so a signature
covers what a credential shows — a text's base direction, IRIs and literals with characters
that must be escaped — and a credential whose IRIs JSON-LD would drop is refused, when signing
and when verifying. The vectors (tests/vectors/rdfc-edge-cases) were made by the independent
implementation; tests/test_interop_vc.py runs it live."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from apps.sdk.statements import TransformError, decode_private_key, sign, verify
from apps.sdk.statements import cryptosuite as suite
from apps.sdk.statements.multikey import encode_multibase
from tests.conftest import cli
from vocab.contexts import document_loader

VECTORS = Path(__file__).parent / "vectors"
EDGES = VECTORS / "rdfc-edge-cases"
KEYS = json.loads((VECTORS / "eddsa-rdfc-2022" / "keyPair.json").read_text(encoding="utf-8"))
SEED = decode_private_key(KEYS["secretKeyMultibase"])
CREATED = "2025-01-02T00:00:00Z"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
CASES = ("direction", "iri-escaping", "literal-escaping")
REFUSED = json.loads((EDGES / "refused.json").read_text(encoding="utf-8"))


def load(name: str) -> Any:
    text = (EDGES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def vm(credential: dict[str, Any]) -> str:
    did = credential["issuer"]
    return f"{did}#{did.removeprefix('did:key:')}"


def signed(name: str) -> dict[str, Any]:
    credential = load(f"{name}.json")
    return sign(credential, private_key=SEED, verification_method=vm(credential),
                created=CREATED)


def verdict(credential: dict[str, Any]) -> Any:
    return asyncio.run(verify(credential, now=NOW))  # did:key: resolved locally


def lax_signed(credential: dict[str, Any]) -> dict[str, Any]:
    """Signed as a processor without safe mode would sign it: pyld drops what JSON-LD → RDF
    cannot express (here, IRIs with white space) and writes the rest unescaped."""
    options = {"type": suite.PROOF_TYPE, "cryptosuite": suite.CRYPTOSUITE, "created": CREATED,
               "verificationMethod": vm(credential), "proofPurpose": "assertionMethod"}

    def lax(doc: dict[str, Any]) -> str:
        return jsonld.normalize(doc, {"algorithm": "URDNA2015", "format": "application/n-quads",
                                      "documentLoader": document_loader})

    data = suite.hash_data(lax({**options, "@context": credential["@context"]}), lax(credential))
    return {**credential,
            "proof": {**options, "proofValue": encode_multibase(suite.sign_bytes(data, SEED))}}


# --- canonical forms ---------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_the_canonical_form_is_rdfc_10s(name: str) -> None:
    assert suite.canonicalize(load(f"{name}.json")) == load(f"{name}.nq")


def test_a_texts_base_direction_is_in_the_signed_bytes() -> None:
    canonical = suite.canonicalize(load("direction.json"))
    assert '"نور الهدى"^^<https://www.w3.org/ns/i18n#ar_rtl>' in canonical
    assert "^^<https://www.w3.org/ns/i18n#en-gb_ltr>" in canonical


def test_iris_and_literals_are_escaped_with_uchar_and_echar() -> None:
    iris = suite.canonicalize(load("iri-escaping.json"))
    assert "<https://types.example/a\\u003Cb\\u003E\\u0022c\\u0022>" in iris
    assert "<https://people.example/controls/\\u0000\\u0001\\u0008\\u001B\x7f>" in iris
    assert '"42"^^<https://datatypes.example/\\u0022quoted\\u0022>' in iris
    text = suite.canonicalize(load("literal-escaping.json"))
    assert ('"nul\\u0000 soh\\u0001 bs\\b tab\\t lf\\n vt\\u000B ff\\f cr\\r esc\\u001B '
            'us\\u001F del\\u007F quote\\" backslash\\\\ nel\x85 ok"') in text


# --- signatures --------------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_commonpod_signs_as_the_independent_implementation_did(name: str) -> None:
    assert signed(name) == load(f"{name}.signed.json")  # identical proofs


@pytest.mark.parametrize("name", CASES)
def test_commonpod_verifies_what_the_independent_implementation_signed(name: str) -> None:
    result = verdict(load(f"{name}.signed.json"))
    assert result.verified, result.reasons


@pytest.mark.parametrize(("path", "value"), [
    (("credentialSubject", "name", "@direction"), "ltr"),
    (("credentialSubject", "description", "@direction"), "rtl"),
    (("credentialSubject", "name", "@language"), "fa"),
], ids=["rtl-to-ltr", "ltr-to-rtl", "language"])
def test_changing_a_texts_direction_fails_verification(path: tuple[str, ...], value: str) -> None:
    secured = signed("direction")
    assert verdict(secured).verified
    tampered = copy.deepcopy(secured)
    *parents, last = path
    node = tampered
    for key in parents:
        node = node[key]
    node[last] = value
    result = verdict(tampered)
    assert not result.verified
    assert any("signature does not match" in r for r in result.reasons), result.reasons


def test_dropping_a_texts_direction_fails_verification() -> None:
    tampered = signed("direction")
    del tampered["credentialSubject"]["name"]["@direction"]
    assert not verdict(tampered).verified


# --- invalid IRIs: refused, never dropped -------------------------------------------------

@pytest.mark.parametrize("case", REFUSED, ids=[c["case"] for c in REFUSED])
def test_an_invalid_iri_is_refused_at_sign(case: dict[str, Any]) -> None:
    credential = case["credential"]
    with pytest.raises(TransformError, match=re.escape(case["reason"])):
        sign(credential, private_key=SEED, verification_method=vm(credential))


@pytest.mark.parametrize("case", REFUSED, ids=[c["case"] for c in REFUSED])
def test_an_invalid_iri_is_refused_at_verify(case: dict[str, Any]) -> None:
    result = verdict(lax_signed(case["credential"]))
    assert not result.verified
    assert any(r.startswith("the credential cannot be canonicalised")
               and case["reason"] in r for r in result.reasons), result.reasons


def test_a_statement_about_an_id_with_a_space_cannot_be_swapped() -> None:
    # the audit's case: without the refusal every statement about the node was dropped, so a
    # lax signature over it still verified after they were changed
    [case] = [c for c in REFUSED if c["case"] == "id-space"]
    credential = copy.deepcopy(case["credential"])
    credential["credentialSubject"]["name"] = "Alice"
    tampered = lax_signed(credential)
    tampered["credentialSubject"]["name"] = "Mallory"
    result = verdict(tampered)
    assert not result.verified
    assert any("is not a valid IRI: it contains U+0020" in r for r in result.reasons)


def test_the_cli_refuses_an_invalid_iri_with_its_reason(tmp_path: Path) -> None:
    [case] = [c for c in REFUSED if c["case"] == "id-space"]
    unsigned = tmp_path / "unsigned.json"
    unsigned.write_text(json.dumps(case["credential"]), encoding="utf-8")
    done = cli("vc", "sign", str(unsigned), "--pod", "nobody", data_dir=tmp_path / "data",
               check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert case["reason"] in done.stderr
    assert not (tmp_path / "data").exists()  # refused before any pod or key was touched

    lax = tmp_path / "lax.json"
    lax.write_text(json.dumps(lax_signed(case["credential"])), encoding="utf-8")
    checked = cli("vc", "verify", str(lax), "--key", KEYS["publicKeyMultibase"], check=False)
    assert checked.returncode == 1
    out = json.loads(checked.stdout)
    assert out["verified"] is False and any(case["reason"] in r for r in out["reasons"])
