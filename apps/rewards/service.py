"""Signing in as the community and assembling the issuer: its pod, name (the shared view's
settings), key (the file the reputation app keeps too, published in its WebID profile) and the
members (the shared view's list)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from apps.community_kit import signin
from apps.reputation.config import load_key
from apps.rewards.issue import Issuer
from apps.sdk import publish_key
from apps.shared_view.config import Credential
from apps.shared_view.pod_store import CommunityPod


@dataclass(frozen=True)
class Setup:
    """How the app is started."""

    community: str  # the community's WebID
    credential: Credential
    key_file: Path
    timeout: float = 30.0


@contextlib.asynccontextmanager
async def signed_in(setup: Setup) -> AsyncIterator[tuple[Issuer, CommunityPod]]:
    """The community as issuer, and its pod as the shared view keeps it, for as long as the
    block runs. ``ValueError`` when the credential is not the community's."""
    seed = load_key(setup.key_file)  # one key, one file, for every app of the community
    async with signin.signed_in(setup.community, setup.credential,
                                timeout=setup.timeout) as community:
        client, profile = community.client, community.profile
        vm = await publish_key(client, setup.community, seed)
        pod = CommunityPod(client, community.storage)
        settings = await pod.settings()
        name = settings.name if settings else (profile.name or setup.community)
        yield Issuer(client, community.storage, setup.community, name, seed, vm), pod
