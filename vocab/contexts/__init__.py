"""Bundled JSON-LD contexts and a document loader that serves only them (see README.md).

Nothing here touches the network: a context that is not bundled is refused, so what a
signature covers can never be changed by whoever hosts a context.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
SOLID_OIDC = "https://www.w3.org/ns/solid/oidc-context.jsonld"
#: Bitstring Status List v1.0's own context; its terms are in CREDENTIALS_V2 as well
STATUS_LIST_V1 = "https://www.w3.org/ns/credentials/status/v1"
#: DID Core's context: named by the DID documents ``did:key`` resolves to, never loaded (not
#: bundled)
DID_V1 = "https://www.w3.org/ns/did/v1"

#: context URL → bundled file name
CONTEXTS: dict[str, str] = {
    CREDENTIALS_V2: "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    DATA_INTEGRITY_V2: "data-integrity-v2.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    MULTIKEY_V1: "multikey-v1.jsonld",
    OPEN_BADGES_V3: "ob-v3p0-context-3.0.3.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-v3p0-context-3.0.0.jsonld",
    SOLID_OIDC: "solid-oidc-context.jsonld",
    STATUS_LIST_V1: "vc-bitstring-status-list-v1.jsonld",
}


class UnknownContext(LookupError):
    """A context URL that is not bundled; it is never fetched."""

    def __init__(self, url: str) -> None:
        super().__init__(f"the JSON-LD context {url} is not bundled with Commonpod, and "
                         "contexts are never fetched")
        self.url = url


@cache
def _load(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)  # every bundled context is a JSON object
    return document


def context(url: str) -> dict[str, Any]:
    """The bundled context document for ``url`` (a fresh copy), or ``UnknownContext``."""
    name = CONTEXTS.get(url)
    if name is None:
        raise UnknownContext(url)
    return copy.deepcopy(_load(name))


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pyld-compatible document loader serving only the bundled contexts. They are tagged
    ``static``: pyld then keeps each one resolved (and its processed forms) in its shared cache
    instead of loading and processing it again for every document."""
    return {"contextUrl": None, "documentUrl": url, "document": context(url), "tag": "static"}
