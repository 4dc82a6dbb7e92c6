"""The identity side of the server, opened once at start-up: signing keys, tokens, the OAuth
provider, client credentials and the resource server's authenticator."""

from __future__ import annotations

from dataclasses import dataclass

from auth.authenticate import Authenticator
from auth.credentials import Credentials
from auth.fetch import Fetcher
from auth.oidc.dpop import ReplayCache
from auth.oidc.provider import Provider
from auth.oidc.remote import RemoteTokens
from auth.oidc.tokens import AccessTokens, SigningKeys
from pod.store.system import SystemRecords


@dataclass
class Identity:
    issuer: str
    keys: SigningKeys
    tokens: AccessTokens
    replay: ReplayCache
    credentials: Credentials
    provider: Provider
    authenticator: Authenticator

    @classmethod
    async def open(cls, system: SystemRecords, issuer: str,
                   fetcher: Fetcher | None = None) -> Identity:
        """Load (or make) the signing key and build the identity side. With a ``fetcher``,
        tokens of other Solid-OIDC issuers are accepted too (Solid-OIDC §8)."""
        keys = await SigningKeys.load_or_create(system)
        tokens = AccessTokens(keys, issuer)
        replay = ReplayCache()
        remote = RemoteTokens(fetcher) if fetcher is not None else None
        return cls(issuer, keys, tokens, replay, Credentials(system), Provider(tokens),
                   Authenticator(tokens, replay, remote))
