"""Digital Bazaar's verifier as an independent check of statements written into pods (issue
#13 §4): `@digitalbazaar/vc` with `@digitalbazaar/data-integrity` and
`@digitalbazaar/eddsa-rdfc-2022-cryptosuite`, installed by .ci/run into .ci/cache/node_modules
and run by tests/independent_verifier.mjs.

Offline: the script's document loader serves only Commonpod's bundled contexts and the documents
fetched here beforehand over HTTP (each issuer's key and controller document, read from its
WebID profile, and any status list credential)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from apps.sdk import HttpResolver, PodClient
from tests.conftest import ROOT
from vocab.contexts import CONTEXTS, DID_V1, MULTIKEY_V1, context

MODULES = ROOT / ".ci" / "cache" / "node_modules"
SCRIPT = Path(__file__).resolve().parent / "independent_verifier.mjs"


def node() -> str:
    """Node.js, with Digital Bazaar's libraries installed; skips without Node.js (fails under
    CI=true)."""
    found = shutil.which("node")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Node.js is needed for the independent verifier (CI=true)")
        pytest.skip("Node.js is not installed: the independent verifier cannot run")
    assert (MODULES / "@digitalbazaar" / "vc" / "lib" / "index.js").exists(), (
        "Digital Bazaar's VC libraries are not in .ci/cache/node_modules: run .ci/run's npm "
        "install line")
    return found


def _issuer(credential: dict[str, Any]) -> str:
    issuer = credential["issuer"]
    return str(issuer["id"] if isinstance(issuer, dict) else issuer)


def documents(credentials: list[dict[str, Any]]) -> dict[str, Any]:
    """The bundled contexts, and what the credentials name, fetched now over HTTP: each
    issuer's key and controller document (from its WebID profile), each status list."""
    async def work() -> dict[str, Any]:
        found: dict[str, Any] = {url: context(url) for url in CONTEXTS}
        async with PodClient() as anonymous:
            resolve = HttpResolver(anonymous)
            for credential in credentials:
                vm = credential["proof"]["verificationMethod"]
                controller = await resolve(vm)
                method = next(m for m in controller["verificationMethod"] if m["id"] == vm)
                found[vm] = {"@context": MULTIKEY_V1, **method}
                issuer = _issuer(credential)
                node = next(n for n in controller["@graph"] if n["id"] == issuer)
                # DID v1 first: the library reads assertionMethod without loading it
                found[issuer] = {"@context": [DID_V1, MULTIKEY_V1], "id": issuer,
                                 "assertionMethod": node["assertionMethod"]}
                status = credential.get("credentialStatus")
                if status is not None:
                    listed = status["statusListCredential"]
                    found[listed] = (await anonymous.get(
                        listed, accept="application/ld+json")).json()
        return found

    return asyncio.run(work())


def verify(node_path: str, credentials: list[dict[str, Any]],
           known: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each credential's verdict from the independent verifier: ``{verified, revoked,
    error}``; ``known`` the documents it may load (default: :func:`documents` of them)."""
    given = known if known is not None else documents(credentials)
    done = subprocess.run([node_path, str(SCRIPT), str(MODULES)], input=json.dumps(
        {"documents": given, "credentials": credentials}), capture_output=True, text=True,
        timeout=120, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line]
