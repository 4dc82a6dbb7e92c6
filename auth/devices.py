"""Known devices: browsers that signed in to an account before.

Every successful sign-in (or sign-up) gives the browser the ``cp_device`` cookie, or renews it:
a random device id and the accounts signed in from it (name and uid, at most
:data:`MAX_ACCOUNTS`, the latest first), with an HMAC-SHA256 under a server secret (the sealed
system record ``device-secret``). It lasts a year; the cookie itself — HttpOnly, SameSite=Lax,
Secure on https, sent only to ``/.account/`` pages — is set by :mod:`auth.http.cookies`.

A device known for an account is exempt from the per-account ceiling and the per-address limit
on failed sign-ins, and backs off on its own (:mod:`auth.ratelimit`): someone guessing the
password elsewhere, or from the same address, cannot lock the owner's own browser out. The
cookie lets nobody in; it only says that this browser once knew the password. The uid binds it
to the account, so an account made later under a reused name does not honour it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from auth.accounts import Account
from pod.store.system import SystemRecords

SECRET_RECORD = "device-secret"  # noqa: S105 (a record name, not a secret)
LIFETIME = 365 * 24 * 3600
MAX_ACCOUNTS = 5
MAX_COOKIE = 1024


@dataclass(frozen=True)
class Device:
    """A browser's device cookie, verified."""

    id: str
    accounts: tuple[tuple[str, str], ...]  # (name, uid), the latest first

    def knows(self, account: Account) -> bool:
        return (account.name, account.uid) in self.accounts

    def names(self, name: str) -> bool:
        """Whether an account called ``name`` signed in from here (its uid still to check)."""
        return any(n == name for n, _ in self.accounts)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Devices:
    """Verifies and issues device cookie values; the secret is loaded (or made) once."""

    def __init__(self, system: SystemRecords):
        self._system = system
        self._secret: bytes | None = None

    async def _mac(self, payload: str) -> str:
        if self._secret is None:
            self._secret = await self._system.secret(SECRET_RECORD)
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())

    async def verify(self, value: str) -> Device | None:
        """The device a cookie value names, if it is one of ours, intact and unexpired."""
        payload, _, mac = value.partition(".")
        if not mac or len(value) > MAX_COOKIE:
            return None
        if not hmac.compare_digest((await self._mac(payload)).encode(), mac.encode()):
            return None
        try:
            data = json.loads(_unb64(payload))
            device = Device(str(data["d"]), tuple((str(n), str(u)) for n, u in data["a"]))
            issued = float(data["t"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        return device if issued + LIFETIME > time.time() else None

    async def issue(self, device: Device | None, account: Account) -> str:
        """The new cookie value of a browser (``device``, if it had one) that just signed in to
        ``account``."""
        known = [a for a in (device.accounts if device else ()) if a[0] != account.name]
        accounts = [(account.name, account.uid), *known][:MAX_ACCOUNTS]
        data = {"d": device.id if device else secrets.token_urlsafe(16), "a": accounts,
                "t": int(time.time())}
        payload = _b64(json.dumps(data, separators=(",", ":")).encode())
        return f"{payload}.{await self._mac(payload)}"
