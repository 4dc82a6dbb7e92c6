"""Interoperability with an independent `eddsa-rdfc-2022` implementation: Digital Bazaar's
`@digitalbazaar/vc` 7 with `@digitalbazaar/eddsa-rdfc-2022-cryptosuite` (Node.js), pinned in
tests/interop-vc/package.json and installed on first use (npm ci).

It runs offline: its document loader serves only Commonpod's bundled contexts and the key's
`did:key` documents. Over the W3C vector and the edge cases of issue #9 §7
(tests/vectors/rdfc-edge-cases) both write the same canonical N-Quads, each verifies what the
other signs, and both reach the same verdict on every tampered or refused credential — except
the divergences recorded in refused.json, which are checked to be exactly those.
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from apps.sdk.statements import TransformError, resolve_did_key, sign, verify
from apps.sdk.statements import cryptosuite as suite
from tests.test_statement_edge_cases import (
    CASES,
    CREATED,
    KEYS,
    REFUSED,
    SEED,
    VECTORS,
    lax_signed,
    load,
    vm,
)
from vocab.contexts import CONTEXTS, context

INTEROP = Path(__file__).resolve().parent / "interop-vc"
Independent = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


@pytest.fixture(scope="module")
def independent() -> Independent:
    """Run jobs (canonize, issue, verify) through the independent implementation."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("Node.js and npm are needed for the interoperability tests")
    if not (INTEROP / "node_modules" / "@digitalbazaar" / "vc").exists():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=INTEROP,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
    method = vm(load("direction.json"))
    controller = resolve_did_key(method)
    documents = {url: context(url) for url in CONTEXTS}
    documents[controller["id"]] = controller
    documents[method] = {"@context": "https://w3id.org/security/multikey/v1",
                         **controller["verificationMethod"][0]}
    key = {"id": method, "controller": controller["id"],
           "publicKeyMultibase": KEYS["publicKeyMultibase"],
           "secretKeyMultibase": KEYS["secretKeyMultibase"]}

    def run(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stdin = json.dumps({"documents": documents, "key": key, "created": CREATED,
                            "jobs": jobs})
        done = subprocess.run(["node", "di.mjs"], cwd=INTEROP, input=stdin, capture_output=True,
                              text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        results = [json.loads(line) for line in done.stdout.split("\n") if line]
        assert len(results) == len(jobs)
        return results

    return run


def commonpod_signed(credential: dict[str, Any]) -> dict[str, Any]:
    return sign(credential, private_key=SEED, verification_method=vm(credential),
                created=CREATED)


def commonpod_verdict(credential: dict[str, Any]) -> bool:
    return asyncio.run(verify(credential)).verified  # did:key: resolved locally


def tampered(name: str, secured: dict[str, Any]) -> dict[str, Any]:
    """The credential with one thing changed that its signature must cover."""
    changed = copy.deepcopy(secured)
    subject = changed["credentialSubject"]
    if name == "direction":
        subject["name"]["@direction"] = "ltr"
    elif name == "iri-escaping":
        subject["https://schema.org/url"]["id"] = subject["https://schema.org/url"]["id"][:-1]
    else:
        subject["name"] = subject["name"].replace("\x01", "\x02")
    assert changed != secured
    return changed


def test_both_write_the_same_canonical_forms(independent: Independent) -> None:
    documents = [load(f"{name}.json") for name in CASES]
    documents.append(json.loads((VECTORS / "eddsa-rdfc-2022" / "unsigned.json").read_text()))
    expected = [load(f"{name}.nq") for name in CASES]
    expected.append((VECTORS / "eddsa-rdfc-2022" / "canonicalDocument.nq").read_text())
    theirs = independent([{"op": "canonize", "document": d} for d in documents])
    for document, want, their in zip(documents, expected, theirs, strict=True):
        assert their == {"nquads": want}
        assert suite.canonicalize(document) == want


def test_the_independent_implementation_signs_the_vectors_as_recorded(
        independent: Independent) -> None:
    issued = independent([{"op": "issue", "document": load(f"{n}.json")} for n in CASES])
    for name, result in zip(CASES, issued, strict=True):
        assert result == {"signed": load(f"{name}.signed.json")}
        assert result["signed"] == commonpod_signed(load(f"{name}.json"))  # identical proofs


@pytest.mark.parametrize("signer", ["commonpod", "independent"])
def test_verdicts_agree_on_signed_and_tampered_credentials(independent: Independent,
                                                           signer: str) -> None:
    if signer == "commonpod":
        secured = [commonpod_signed(load(f"{name}.json")) for name in CASES]
    else:
        issued = independent([{"op": "issue", "document": load(f"{n}.json")} for n in CASES])
        secured = [result["signed"] for result in issued]
    credentials = secured + [tampered(n, s) for n, s in zip(CASES, secured, strict=True)]
    expected = [True] * len(secured) + [False] * len(secured)
    theirs = independent([{"op": "verify", "document": c} for c in credentials])
    for credential, want, their in zip(credentials, expected, theirs, strict=True):
        assert their["verified"] is want, their
        assert commonpod_verdict(credential) is want


@pytest.mark.parametrize("case", REFUSED, ids=[c["case"] for c in REFUSED])
def test_verdicts_agree_on_invalid_iris(independent: Independent, case: dict[str, Any]) -> None:
    accepts = case["independent"] == "accepts"  # a divergence refused.json records
    with pytest.raises(TransformError, match="could not cover"):
        commonpod_signed(case["credential"])
    [issued] = independent([{"op": "issue", "document": case["credential"]}])
    assert ("signed" in issued) is accepts, issued
    # what reaches a verifier: the independent implementation's credential if it signed one,
    # else one signed by a processor without safe mode
    secured = issued["signed"] if accepts else lax_signed(case["credential"])
    [their] = independent([{"op": "verify", "document": secured}])
    assert their["verified"] is accepts, their
    assert commonpod_verdict(secured) is False
