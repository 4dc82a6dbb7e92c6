"""Invitations to sign up when the setting ``signup`` is ``"invite"``: single-use, expiring.

``commonpod invite create`` makes a random 256-bit token and prints the link
``{base}.account/signup?invite=TOKEN``. The server keeps only the token's SHA-256, as the
sealed system record ``invite:{hash}`` holding its expiry, so neither the database nor the
master key yields a usable link. Signing up claims the invitation by deleting its record
(checked against the version read, so two browsers can never both use one link); if the
account then cannot be made (the name is taken, say), the record is put back.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass

from pod.errors import VersionConflict
from pod.store.system import SystemRecords, dump

DEFAULT_DAYS = 7.0
MAX_DAYS = 365.0
SIGNUP_PAGE = ".account/signup"
#: what ``secrets.token_urlsafe(32)`` makes; anything else is refused before any lookup
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


def record_name(token: str) -> str:
    return "invite:" + hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Invitation:
    """A new invitation: the link to hand over (the only copy of its token) and its expiry."""

    link: str
    expires: int


@dataclass(frozen=True)
class Claim:
    """A claimed invitation, which :meth:`Invites.restore` can put back."""

    name: str
    data: bytes


class Invites:
    """Makes, checks and claims invitations (sealed system records)."""

    def __init__(self, system: SystemRecords):
        self._system = system

    async def create(self, base_url: str, days: float = DEFAULT_DAYS) -> Invitation:
        """A new invitation valid for ``days``."""
        if not 0 < days <= MAX_DAYS:
            raise ValueError(f"an invitation lasts more than 0 and at most {MAX_DAYS:g} days")
        token = secrets.token_urlsafe(32)
        expires = int(time.time() + days * 86400)
        async with self._system.write() as tx:
            await tx.put(record_name(token), dump({"expires": expires}))
        return Invitation(f"{base_url}{SIGNUP_PAGE}?invite={token}", expires)

    async def valid(self, token: str | None) -> bool:
        """Whether ``token`` names an unused invitation that has not expired."""
        if not token or not TOKEN.fullmatch(token):
            return False
        opened = await self._system.get(record_name(token))
        return opened is not None and _unexpired(opened.data)

    async def claim(self, token: str | None) -> Claim | None:
        """Use up the invitation ``token`` names; ``None`` if it is not valid (any more)."""
        if not token or not TOKEN.fullmatch(token):
            return None
        name = record_name(token)
        try:
            async with self._system.write() as tx:
                opened = await tx.get(name)
                if opened is None:
                    return None
                await tx.delete(name, expect=opened.version)  # an expired one goes too
        except VersionConflict:  # claimed meanwhile by another process
            return None
        return Claim(name, opened.data) if _unexpired(opened.data) else None

    async def restore(self, claim: Claim) -> None:
        """Put back an invitation claimed by a sign-up that then failed."""
        async with self._system.write() as tx:
            await tx.put(claim.name, claim.data)


def _unexpired(data: bytes) -> bool:
    return time.time() < int(json.loads(data)["expires"])
