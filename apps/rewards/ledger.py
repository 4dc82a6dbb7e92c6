"""The issuance ledger in the community's pod (``rewards-app/ledger.json``, owner-only; not
under ``rewards/``, which is the pod's container for the badges it receives itself).

Every badge is entered ``pending`` (with its status list index, its issuance time and where
it goes) *before* it is appended to the member's pod, and marked ``issued`` after; a run that
stops in between leaves ``pending`` entries that the next run appends again with the same id,
index and time. ``revoked`` entries have their bit set in the status list. Writes are guarded
by ETags (``If-Match`` / ``If-None-Match: *``): a write that loses a race is read and retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from apps.sdk import NotFound, PodClient, PreconditionFailed

PENDING, ISSUED, REVOKED = "pending", "issued", "revoked"
FOLDER = "rewards-app/"


@dataclass
class Entry:
    """One badge credential: who, which badge under which rules version, its bit, its state."""

    member: str
    badge: str  # the badge's slug
    name: str  # the badge's name
    description: str  # the badge's description
    criteria: str  # what earned it, in words
    version: int  # the rules version it was earned under
    rules: str  # that version's document
    index: int  # its bit in the status list
    issued_at: str  # its validFrom (ISO 8601, UTC)
    container: str  # the member's rewards/ container it is appended to
    slug: str  # the document name asked for there
    state: str = PENDING
    document: str | None = None  # where it was stored, once issued
    #: the contributions that earned it: [IRI, name] each
    evidence: list[list[str]] = field(default_factory=list)


@dataclass
class Ledger:
    """Every credential the community issued, by credential id, and the next free bit."""

    entries: dict[str, Entry] = field(default_factory=dict)
    next_index: int = 0

    def to_json(self) -> bytes:
        return json.dumps({"next_index": self.next_index,
                           "entries": {k: asdict(v) for k, v in sorted(self.entries.items())}},
                          indent=1).encode()

    @classmethod
    def from_json(cls, body: bytes) -> Ledger:
        data: dict[str, Any] = json.loads(body)
        entries = {k: Entry(**v) for k, v in data.get("entries", {}).items()}
        return cls(entries, int(data.get("next_index", 0)))

    def revoked_indexes(self) -> set[int]:
        return {e.index for e in self.entries.values() if e.state == REVOKED}


class LedgerStore:
    """The ledger document, read and changed as the community."""

    def __init__(self, client: PodClient, pod: str) -> None:
        self.client = client
        self.url = pod + FOLDER + "ledger.json"

    async def read(self) -> tuple[Ledger, str | None]:
        try:
            got = await self.client.get(self.url, accept="application/json")
        except NotFound:
            return Ledger(), None
        return Ledger.from_json(got.body), got.etag

    async def change(self, apply: Callable[[Ledger], None]) -> Ledger:
        """Read the ledger, ``apply`` a change, write it back over the version read."""
        for _ in range(5):
            ledger, etag = await self.read()
            apply(ledger)
            body = ledger.to_json()
            try:
                if etag is None:
                    await self.client.put(self.url, body, content_type="application/json",
                                          if_none_match="*")
                else:
                    await self.client.put(self.url, body, content_type="application/json",
                                          if_match=etag)
                return ledger
            except PreconditionFailed:
                continue
        raise RuntimeError(f"{self.url} kept changing while the app wrote it")
