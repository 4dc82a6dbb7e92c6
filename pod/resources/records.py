"""What one stored resource looks like once unsealed: a small header and the body.

A container's member names live in separate membership pages (``pod.resources.membership``);
its own record holds only the member count and the number of pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

RDF, BINARY, CONTAINER = "rdf", "bin", "dir"


@dataclass(slots=True)
class Resource:
    """A resource's metadata and body. RDF bodies are stored as sent (Turtle or JSON-LD)."""

    kind: str
    content_type: str
    modified: float
    body: bytes = b""
    count: int = 0  # containers: number of members
    pages: int = 1  # containers: number of membership pages
    version: bytes = b""

    @property
    def etag(self) -> str:
        """A strong entity tag (RFC 9110 §8.8.3) from the sealed version."""
        return '"' + self.version.hex() + '"'

    def encode(self) -> bytes:
        header: dict[str, object] = {"k": self.kind, "t": self.content_type, "m": self.modified}
        if self.kind == CONTAINER:
            header["c"], header["p"] = self.count, self.pages
        return json.dumps(header, separators=(",", ":")).encode() + b"\n" + self.body

    @classmethod
    def decode(cls, data: bytes, version: bytes) -> Resource:
        head, _, body = data.partition(b"\n")
        h = json.loads(head)
        return cls(h["k"], h["t"], h["m"], body, h.get("c", 0), h.get("p", 1), version)
