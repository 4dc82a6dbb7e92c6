"""Envelope keys: the master key file, the server keyring and per-pod keys.

The master key (32 random bytes in a file of mode 0600) wraps a random *server key* (used to
blind pod names) and one random key per pod, with XChaCha20-Poly1305 whose associated data
names what is wrapped. Nothing is ever derived from the master key directly, so rotating it
rewraps keys only. The server refuses to start on a missing, unreadable, badly permissioned or
wrong master key, and never creates a fresh key over existing data.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from nacl import bindings, exceptions, utils
from nacl.encoding import RawEncoder
from nacl.hash import blake2b

from pod.errors import ConfigError, IntegrityError
from pod.store.base import Backend, PodRow

KEY_BYTES = 32
NONCE_BYTES = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
SERVER_KEY = "server"


def aead_seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """XChaCha20-Poly1305 with a random nonce, returned as ``nonce || ciphertext``."""
    nonce = utils.random(NONCE_BYTES)
    return nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, aad, nonce, key)


def aead_open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Open what :func:`aead_seal` made; raises :class:`IntegrityError` on any mismatch."""
    try:
        return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            sealed[NONCE_BYTES:], aad, sealed[:NONCE_BYTES], key
        )
    except exceptions.CryptoError as exc:
        raise IntegrityError("sealed value failed to open (tampered, moved or wrong key)") from exc


def subkey(key: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one ``purpose`` (≤16 bytes), derived with keyed BLAKE2b."""
    return blake2b(b"", digest_size=KEY_BYTES, key=key, person=purpose, encoder=RawEncoder)


# --- the master key file -------------------------------------------------------------------

def write_key_file(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path`` atomically with mode 0600; refuses to overwrite."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            if os.write(fd, key) != len(key):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)  # fails if path exists: never clobber a key
    finally:
        tmp.unlink(missing_ok=True)


def new_master_key() -> bytes:
    return utils.random(KEY_BYTES)


def read_key_file(path: Path) -> bytes:
    """Read and check a master key file; raises :class:`ConfigError` saying what is wrong."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"master key file {path} is missing") from None
    except OSError as exc:
        raise ConfigError(f"master key file {path} is unreadable: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(f"master key file {path} is not a regular file")
    if st.st_mode & 0o077:
        raise ConfigError(
            f"master key file {path} has mode {stat.S_IMODE(st.st_mode):04o}; "
            f"it must be readable by its owner only (chmod 600 {path})"
        )
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"master key file {path} is unreadable: {exc.strerror}") from None
    if len(key) != KEY_BYTES:
        raise ConfigError(f"master key file {path} is damaged: {len(key)} bytes, not 32")
    return key


# --- the keyring ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Keyring:
    """The unwrapped server key, and what it and the master key are used for."""

    master: bytes
    server: bytes

    def name_index(self, pod_name: str) -> bytes:
        """The blind index of a pod name: the database never holds the name itself."""
        return blake2b(
            pod_name.encode(), digest_size=16, key=subkey(self.server, b"cp-pod-names"),
            encoder=RawEncoder,
        )

    def wrap_pod_key(self, pod_id: bytes, key: bytes, master: bytes | None = None) -> bytes:
        return aead_seal(master or self.master, key, b"pod-key:" + pod_id)

    def unwrap_pod_key(self, row: PodRow) -> bytes:
        return aead_open(self.master, row.wrapped_key, b"pod-key:" + row.pod_id)


async def open_keyring(backend: Backend, master: bytes, *, create: bool) -> Keyring:
    """Unwrap the server key with ``master``; with ``create``, make one on an empty store."""
    wrapped = await backend.get_key(SERVER_KEY)
    if wrapped is None:
        if not create:
            raise ConfigError("the database has no keyring: run `commonpod init` first")
        if [row async for row in backend.pods()]:
            raise ConfigError("the database holds pods but no keyring: refusing to continue")
        server = utils.random(KEY_BYTES)
        await backend.set_keys({SERVER_KEY: aead_seal(master, server, b"server-key")}, {})
        return Keyring(master, server)
    try:
        return Keyring(master, aead_open(master, wrapped, b"server-key"))
    except IntegrityError:
        raise ConfigError(
            "the master key does not open this database's keyring (wrong master key file?)"
        ) from None


async def rewrap_all(backend: Backend, keyring: Keyring, new_master: bytes) -> Keyring:
    """Rewrap the server key and every pod key under ``new_master``, in one transaction."""
    pods = {
        row.pod_id: keyring.wrap_pod_key(row.pod_id, keyring.unwrap_pod_key(row), new_master)
        async for row in backend.pods()
    }
    server = aead_seal(new_master, keyring.server, b"server-key")
    await backend.set_keys({SERVER_KEY: server}, pods)
    return Keyring(new_master, keyring.server)
