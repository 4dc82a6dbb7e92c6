"""Password hashing: Argon2id (libsodium's, interactive limits), off the event loop.

Each hash or verification costs ~64 MiB and tens of milliseconds, so it runs in a worker
thread, and a semaphore lets only two run at once: a burst of logins queues instead of
exhausting memory. Verification is libsodium's (constant-time).
"""

from __future__ import annotations

import asyncio
import secrets

from nacl import exceptions
from nacl.pwhash import argon2id

MIN_LENGTH = 8
MAX_LENGTH = 1024


class WeakPassword(ValueError):
    """A new password that does not meet the rules; the message says why."""


def check_new(password: str) -> str:
    """Return ``password`` if it is acceptable as a new password."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the password must have at most {MAX_LENGTH} characters")
    return password


def _hash(password: bytes) -> str:
    return argon2id.str(password, opslimit=argon2id.OPSLIMIT_INTERACTIVE,
                        memlimit=argon2id.MEMLIMIT_INTERACTIVE).decode("ascii")


def _verify(stored: str, password: bytes) -> bool:
    try:
        return argon2id.verify(stored.encode("ascii"), password)
    except (exceptions.InvalidkeyError, exceptions.CryptoError, ValueError):
        return False


class Passwords:
    """Hashes and verifies passwords, at most ``concurrency`` at a time."""

    def __init__(self, concurrency: int = 2):
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        """An Argon2id hash string (salt and parameters included) of ``password``."""
        async with self._slots:
            return await asyncio.to_thread(_hash, password.encode())

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; with no hash to check (an unknown
        account) a dummy one is verified, so the answer takes as long either way."""
        if stored is None:
            if self._dummy is None:
                self._dummy = await self.hash(secrets.token_urlsafe(16))
            await self.verify(self._dummy, password)
            return False
        if len(password) > MAX_LENGTH:
            return False
        async with self._slots:
            return await asyncio.to_thread(_verify, stored, password.encode())
