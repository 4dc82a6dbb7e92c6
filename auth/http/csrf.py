"""CSRF tokens for the server's own forms.

A token is an HMAC-SHA256, under a server secret, of what ties the form to one browser: its
session (the SHA-256 of the session token) once signed in, or before that a random pre-session
cookie ``cp_csrf`` (HttpOnly, SameSite=Strict). Another site can neither read the token nor
make one. The secret is the sealed system record ``csrf-secret``, made on first use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

from pod.errors import VersionConflict
from pod.store.base import ABSENT
from pod.store.system import SystemRecords, dump

COOKIE = "cp_csrf"
FIELD = "csrf"
SECRET_RECORD = "csrf-secret"  # noqa: S105 (a record name, not a secret)
NONCE = re.compile(r"[A-Za-z0-9_-]{32,64}")


class Csrf:
    """Makes and checks form tokens; the secret is loaded (or created) once."""

    def __init__(self, system: SystemRecords, *, secure: bool):
        self._system, self._secure = system, secure
        self._secret: bytes | None = None

    async def _key(self) -> bytes:
        if self._secret is None:
            record = await self._system.get_json(SECRET_RECORD)
            if record is None:
                fresh = {"key": secrets.token_hex(32)}
                try:
                    async with self._system.write() as tx:
                        await tx.put(SECRET_RECORD, dump(fresh), expect=ABSENT)
                    record = fresh
                except VersionConflict:  # made meanwhile by another process
                    opened = await self._system.get(SECRET_RECORD)
                    record = json.loads(opened.data) if opened else fresh
            self._secret = bytes.fromhex(record["key"])
        return self._secret

    async def _token(self, binding: str) -> str:
        mac = hmac.new(await self._key(), binding.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    async def for_session(self, digest: str) -> str:
        """The token for forms of a signed-in browser (``digest`` names its session)."""
        return await self._token(f"session:{digest}")

    async def for_visitor(self, nonce: str) -> str:
        """The token for forms shown before sign-in, bound to the ``cp_csrf`` cookie."""
        return await self._token(f"visitor:{nonce}")

    def set_cookie(self, response: Response, nonce: str) -> None:
        response.set_cookie(COOKIE, nonce, path="/", secure=self._secure, httponly=True,
                            samesite="strict")

    async def check_session(self, digest: str, submitted: str | None) -> bool:
        return bool(submitted) and _same(await self.for_session(digest), str(submitted))

    async def check_visitor(self, request: Request, submitted: str | None) -> bool:
        nonce = visitor_nonce(request)
        return bool(submitted and nonce) and _same(await self.for_visitor(str(nonce)),
                                                   str(submitted))


def _same(expected: str, submitted: str) -> bool:
    return hmac.compare_digest(expected.encode(), submitted.encode())


def visitor_nonce(request: Request) -> str | None:
    """The browser's ``cp_csrf`` cookie, if it has a well-formed one."""
    nonce = request.cookies.get(COOKIE, "")
    return nonce if NONCE.fullmatch(nonce) else None


def new_nonce() -> str:
    return secrets.token_urlsafe(32)
