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

#: context URL → bundled file name
CONTEXTS: dict[str, str] = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/2018/credentials/v1": "credentials-v1.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://w3id.org/security/data-integrity/v1": "data-integrity-v1.jsonld",
    "https://w3id.org/security/multikey/v1": "multikey-v1.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json": "ob-v3p0-context-3.0.3.jsonld",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob-v3p0-context-3.0.0.jsonld",
}

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
OPEN_BADGES_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


class UnknownContext(LookupError):
    """A context URL that is not bundled; it is never fetched."""

    def __init__(self, url: str) -> None:
        super().__init__(f"the JSON-LD context {url} is not bundled with Commonpod, and "
                         "contexts are never fetched")
        self.url = url


@cache
def _load(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def context(url: str) -> dict[str, Any]:
    """The bundled context document for ``url`` (a fresh copy), or ``UnknownContext``."""
    name = CONTEXTS.get(url)
    if name is None:
        raise UnknownContext(url)
    return copy.deepcopy(_load(name))


def document_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pyld-compatible document loader serving only the bundled contexts."""
    return {"contextUrl": None, "documentUrl": url, "document": context(url)}
