"""How the reputation app is started (apps/reputation/cli.py): the community, its credential
and statement key, where the app is reachable, and how it reads."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from apps.community_kit.config import Addresses
from apps.shared_view.config import Credential

SEED_BYTES = 32


@dataclass(frozen=True)
class Config(Addresses):
    """Everything the app needs to start."""

    community: str  # the community's WebID
    credential: Credential
    key_file: Path  # the community's Ed25519 statement key (32-byte seed), mode 0600
    public_url: str  # where members' browsers reach the app, ending in "/"
    name: str = "Our community"
    host: str = "127.0.0.1"
    port: int = 8710
    run_every: float = 86_400.0  # seconds between scheduled runs
    concurrency: int = 16
    per_server: int = 8
    timeout: float = 30.0  # per member
    duration: str = "P90D"  # how long members are asked to grant access for
    allow_private_fetch: bool = False

    def __post_init__(self) -> None:
        self.check_addresses()
        if self.run_every <= 0 or self.concurrency < 1 or self.per_server < 1 or \
                self.timeout <= 0:
            raise ValueError("run interval, concurrency, per-server limit and timeout must be "
                             "positive")
        if not self.name.strip():
            raise ValueError("--name must not be blank")


def load_key(path: Path) -> bytes:
    """The community's statement key: read from ``path``, or made there (mode 0600) when the
    file does not exist yet. ``ValueError`` for a file that holds no 32-byte seed or that
    others may read."""
    if not path.exists():
        seed = secrets.token_bytes(SEED_BYTES)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(seed)
        return seed
    if path.stat().st_mode & 0o077:
        raise ValueError(f"{path} may be read by others: chmod 600 it")
    seed = path.read_bytes()
    if len(seed) != SEED_BYTES:
        raise ValueError(f"{path} holds no {SEED_BYTES}-byte Ed25519 seed")
    return seed
