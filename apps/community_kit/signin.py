"""Signing in as the community, the same at every community app's start (no web framework)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from apps.sdk import PodClient, Profile, Retry, client_credentials
from apps.shared_view.config import Credential


@dataclass(frozen=True)
class SignedIn:
    """The community signed in: its client, its WebID profile and its pod."""

    client: PodClient
    profile: Profile
    storage: str


@contextlib.asynccontextmanager
async def signed_in(community: str, credential: Credential, *, timeout: float,
                    per_server: int = 6) -> AsyncIterator[SignedIn]:
    """The community (WebID ``community``) signed in with ``credential`` (client credentials
    at its issuer), for as long as the block runs. ``ValueError`` when its profile names no
    issuer or no pod, or when the credential is not the community's."""
    async with PodClient(retry=Retry(attempts=2, backoff=0.1)) as anonymous:
        profile = await anonymous.profile(community)
    issuer = credential.issuer or (profile.issuers[0] if profile.issuers else None)
    if issuer is None or profile.storage is None:
        raise ValueError(f"the profile of {community} names no issuer or no pod")
    session = await client_credentials(issuer, credential.client_id, credential.client_secret)
    if session.webid != community:
        raise ValueError(f"the credential signs in as {session.webid}, not {community}")
    async with PodClient(session, retry=Retry(attempts=3, backoff=0.2), per_server=per_server,
                         timeout=timeout) as client:
        yield SignedIn(client, profile, profile.storage)
