"""How the app is started: the community it runs, its credential, where it is reachable, and
how it reads — read once from the command line (apps/shared_view/cli.py), checked, typed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from apps.community_kit.config import Addresses
from apps.shared_view.model import Project


@dataclass(frozen=True)
class Credential:
    """The community account's client credential (``commonpod credentials create``)."""

    client_id: str
    client_secret: str = field(repr=False)
    issuer: str | None = None

    @classmethod
    def from_file(cls, path: Path) -> Credential:
        """The credential in the JSON ``commonpod credentials create`` printed."""
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the credential file {path}: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str)
                                                 for k in ("client_id", "client_secret")):
            raise ValueError(f"{path} holds no client_id and client_secret")
        issuer = data.get("issuer")
        return cls(data["client_id"], data["client_secret"],
                   issuer if isinstance(issuer, str) else None)


@dataclass(frozen=True)
class SettingsChange:
    """Settings given on the command line, written to the community's pod at start (``None``:
    keep what the pod says, or the default for a new community)."""

    name: str | None = None
    description: str | None = None
    purpose: str | None = None
    projects: tuple[Project, ...] | None = None
    k: int | None = None
    duration: str | None = None
    epsilon: str | None = None
    budget: str | None = None


@dataclass(frozen=True)
class Config(Addresses):
    """Everything the app needs to start."""

    community: str  # the community's WebID
    credential: Credential
    public_url: str  # where members' browsers reach the app, ending in "/"
    host: str = "127.0.0.1"
    port: int = 8700
    refresh_every: float = 900.0  # seconds between scheduled refreshes
    min_refresh_gap: float = 2.0  # an on-demand refresh sooner than this after one is skipped
    concurrency: int = 16
    per_server: int = 8
    timeout: float = 30.0  # per member
    noise_cap: int = 100  # contributions per member a noisy release counts at most
    allow_private_fetch: bool = False
    settings: SettingsChange = field(default_factory=SettingsChange)

    def __post_init__(self) -> None:
        self.check_addresses()
        if self.refresh_every <= 0 or self.concurrency < 1 or self.per_server < 1 or \
                self.timeout <= 0 or self.noise_cap < 1:
            raise ValueError("refresh interval, concurrency, per-server limit, timeout and "
                             "noise cap must be positive")
