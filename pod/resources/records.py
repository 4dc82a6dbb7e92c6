"""What one stored resource looks like once unsealed: a small header and the body.

Containers keep their member names in their own record (LDP §5.2), so listing a container of
any size is one read and one decryption, and the store never needs a plaintext prefix scan.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

RDF, BINARY, CONTAINER = "rdf", "bin", "dir"


@dataclass(slots=True)
class Resource:
    """A resource's metadata and body. RDF bodies are stored as Turtle."""

    kind: str
    content_type: str
    modified: float
    body: bytes = b""
    children: list[str] = field(default_factory=list)
    version: bytes = b""

    @property
    def etag(self) -> str:
        """A strong entity tag (RFC 9110 §8.8.3) from the sealed version."""
        return '"' + self.version.hex() + '"'

    def encode(self) -> bytes:
        """``header-json \\n member-names body``; names are canonical segments, never holding
        a newline, so they are joined by one (several times faster than a JSON list)."""
        names = "\n".join(self.children).encode()
        header = {"k": self.kind, "t": self.content_type, "m": self.modified, "n": len(names)}
        return json.dumps(header, separators=(",", ":")).encode() + b"\n" + names + self.body

    @classmethod
    def decode(cls, data: bytes, version: bytes) -> Resource:
        head, _, rest = data.partition(b"\n")
        h = json.loads(head)
        n = h["n"]
        children = rest[:n].decode().split("\n") if n else []
        return cls(h["k"], h["t"], h["m"], rest[n:], children, version)
