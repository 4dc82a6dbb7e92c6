"""Revocation with a W3C Bitstring Status List (Bitstring Status List v1.0): the issuer
publishes a ``BitstringStatusListCredential`` holding one bit per credential it issued, and each
credential names its bit in a ``BitstringStatusListEntry`` (``credentialStatus``).

- :class:`StatusList`: the bits (at least 131,072, the specification's minimum size, so one
  list hides which credential a verifier asks about); bit 0 is the most significant bit of the
  first byte. Encoded as the specification says: GZIP (RFC 1952), then base64url without
  padding, prefixed ``u`` (Multibase).
- :func:`status_list_credential`, :func:`status_entry`, :func:`with_status`: unsigned documents
  ready for :func:`~apps.sdk.statements.sign`.
- :func:`check_status`: the validation algorithm, used by
  :func:`~apps.sdk.statements.verify`: the list credential is fetched through the caller's
  resolver, verified (same issuer, same purpose, valid now), and the bit read.

Pure except :func:`check_status`, which fetches only through the resolver it is given.
"""

from __future__ import annotations

import base64
import copy
import gzip
import io
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vocab.contexts import CREDENTIALS_V2

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from apps.sdk.statements.credentials import Resolver, Verdict

    VerifyList = Callable[[dict[str, Any]], Awaitable[Verdict]]

#: the specification's minimum list size in bits (16 KiB)
MIN_ENTRIES = 131_072
#: the largest list this module expands (bits); a list credential claiming more is refused
MAX_ENTRIES = 8 * 16 * 1024 * 1024
REVOCATION = "revocation"
SUSPENSION = "suspension"
PURPOSES = (REVOCATION, SUSPENSION)
LIST_TYPE = "BitstringStatusListCredential"
ENTRY_TYPE = "BitstringStatusListEntry"


class StatusListError(ValueError):
    """A status list or entry that cannot be used; the message says why."""


class StatusList:
    """A list of single-bit statuses (``statusSize`` 1), all 0 at first."""

    def __init__(self, size: int = MIN_ENTRIES, bits: bytes | None = None) -> None:
        if size < MIN_ENTRIES or size % 8:
            raise StatusListError(f"a status list holds at least {MIN_ENTRIES} entries, in "
                                  "whole bytes")
        self.size = size
        self._bytes = bytearray(bits if bits is not None else size // 8)
        if len(self._bytes) * 8 != size:
            raise StatusListError("the bits do not match the list's size")

    def _at(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not 0 <= index < self.size:
            raise StatusListError(f"index {index} is outside the list (0..{self.size - 1})")
        return index // 8, 7 - index % 8

    def __getitem__(self, index: int) -> bool:
        byte, bit = self._at(index)
        return bool(self._bytes[byte] >> bit & 1)

    def __setitem__(self, index: int, value: bool) -> None:
        byte, bit = self._at(index)
        if value:
            self._bytes[byte] |= 1 << bit
        else:
            self._bytes[byte] &= ~(1 << bit) & 0xFF

    def encode(self) -> str:
        """The ``encodedList``: GZIP, base64url without padding, Multibase prefix ``u``."""
        packed = gzip.compress(bytes(self._bytes), mtime=0)
        return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")

    @classmethod
    def decode(cls, encoded: str) -> StatusList:
        """The list an ``encodedList`` holds; :class:`StatusListError` when it is not one."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise StatusListError("the encodedList is not base64url Multibase (prefix 'u')")
        text = encoded[1:]
        try:
            packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except ValueError:
            raise StatusListError("the encodedList is not base64url") from None
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(packed)) as f:
                bits = f.read(MAX_ENTRIES // 8 + 1)
        except (OSError, EOFError, zlib.error):
            raise StatusListError("the encodedList is not GZIP-compressed") from None
        if len(bits) * 8 > MAX_ENTRIES:
            raise StatusListError(f"the status list is larger than {MAX_ENTRIES} entries")
        return cls(len(bits) * 8, bits)


def status_list_credential(*, list_id: str, issuer: str, status_list: StatusList,
                           purpose: str = REVOCATION, valid_from: datetime | None = None
                           ) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` at ``list_id`` (the URL it is published
    at) by ``issuer``, whose subject ``<list_id>#list`` carries the encoded list."""
    if purpose not in PURPOSES:
        raise StatusListError(f"the purpose is one of {', '.join(PURPOSES)}")
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2],
        "id": list_id,
        "type": ["VerifiableCredential", LIST_TYPE],
        "issuer": issuer,
        "credentialSubject": {"id": f"{list_id}#list", "type": "BitstringStatusList",
                              "statusPurpose": purpose, "encodedList": status_list.encode()},
    }
    if valid_from is not None:
        credential["validFrom"] = valid_from.isoformat().replace("+00:00", "Z")
    return credential


def status_entry(*, list_id: str, index: int, purpose: str = REVOCATION) -> dict[str, Any]:
    """The ``credentialStatus`` naming bit ``index`` of the list credential ``list_id``."""
    if purpose not in PURPOSES:
        raise StatusListError(f"the purpose is one of {', '.join(PURPOSES)}")
    if isinstance(index, bool) or index < 0:
        raise StatusListError("a status list index is a non-negative integer")
    return {"id": f"{list_id}#{index}", "type": ENTRY_TYPE, "statusPurpose": purpose,
            "statusListIndex": str(index), "statusListCredential": list_id}


def with_status(credential: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """A copy of an unsigned ``credential`` carrying ``entry`` as its ``credentialStatus``."""
    if "proof" in credential:
        raise ValueError("add the status before signing: the proof must cover it")
    found = copy.deepcopy(credential)
    found["credentialStatus"] = copy.deepcopy(entry)
    return found


@dataclass(frozen=True)
class Status:
    """What one ``credentialStatus`` entry says: the bit is set (``True``) or not; or, when
    it could not be checked, ``None`` and why."""

    purpose: str
    set: bool | None
    reason: str | None = None


def _entries(credential: dict[str, Any]) -> list[Any]:
    value = credential.get("credentialStatus")
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _issuer(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


async def check_status(credential: dict[str, Any], resolve: Resolver | None,
                       fetch: Resolver | None = None, *,
                       verify_list: VerifyList | None = None) -> list[Status]:
    """Each ``BitstringStatusListEntry`` of ``credential``, checked (the specification's
    validation algorithm): the list credential is fetched through ``fetch`` (default
    ``resolve``), must verify (its key found through ``resolve``), be issued by the
    credential's issuer, have the entry's purpose and be valid now.

    ``verify_list``, when given, verifies the list credential instead of
    :func:`~apps.sdk.statements.verify` (a server runs the costly part in a worker)."""
    from apps.sdk.statements.credentials import verify

    async def verified(listed: dict[str, Any]) -> Verdict:
        return await verify(listed, resolve=resolve, check_status=False)

    found = []
    for entry in _entries(credential):
        if not isinstance(entry, dict) or entry.get("type") != ENTRY_TYPE:
            continue  # another status mechanism: not this module's business
        purpose = str(entry.get("statusPurpose", ""))
        found.append(await _one(credential, entry, purpose, fetch or resolve,
                                verify_list or verified))
    return found


async def _one(credential: dict[str, Any], entry: dict[str, Any], purpose: str,
               fetch: Resolver | None, verify: VerifyList) -> Status:
    def failed(why: str) -> Status:
        return Status(purpose, None, why)

    list_id, index = entry.get("statusListCredential"), entry.get("statusListIndex")
    if not isinstance(list_id, str) or not isinstance(index, str) or not index.isdigit():
        return failed("its credentialStatus names no statusListCredential or no "
                      "statusListIndex (a string of digits)")
    if entry.get("statusSize", 1) != 1:
        return failed("only single-bit statuses (statusSize 1) are checked")
    if fetch is None:
        return failed(f"no resolver was given to fetch the status list {list_id}")
    try:
        listed = await fetch(list_id)
    except Exception as exc:  # the resolver's errors are the caller's; say them in words
        return failed(f"the status list {list_id} could not be fetched: {exc}")
    if not isinstance(listed, dict) or LIST_TYPE not in _as_list(listed.get("type")):
        return failed(f"{list_id} is not a {LIST_TYPE}")
    verdict = await verify(listed)
    if not verdict.verified:
        return failed(f"the status list {list_id} does not verify: "
                      + "; ".join(verdict.reasons))
    if _issuer(listed.get("issuer")) != _issuer(credential.get("issuer")):
        return failed(f"the status list {list_id} is not issued by the credential's issuer")
    subject = listed.get("credentialSubject")
    if not isinstance(subject, dict) or purpose not in _as_list(subject.get("statusPurpose")):
        return failed(f"the status list {list_id} is not for the purpose {purpose!r}")
    try:
        bits = StatusList.decode(subject.get("encodedList", ""))
        return Status(purpose, bits[int(index)])
    except StatusListError as exc:
        return failed(f"the status list {list_id} is unusable: {exc}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
