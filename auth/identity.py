"""The identity side of the server, opened once at start-up: signing keys, tokens, the OAuth
provider, client credentials, the resource server's authenticator and the limit on client
registrations."""

from __future__ import annotations

from dataclasses import dataclass, field

from auth.accounts import instance_of
from auth.authenticate import Authenticator
from auth.credentials import Credentials
from auth.fetch import Fetcher
from auth.oidc.dpop import Mark, ReplayCache
from auth.oidc.provider import Provider
from auth.oidc.remote import RemoteTokens
from auth.oidc.tokens import AccessTokens, SigningKeys
from auth.ratelimit import Events, RegistrationLimit
from pod.store.directory import PodDirectory
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
    registrations: RegistrationLimit = field(default_factory=RegistrationLimit)

    @classmethod
    async def open(cls, system: SystemRecords, issuer: str, fetcher: Fetcher | None = None, *,
                   pods: PodDirectory, mark: Mark | None = None,
                   events: Events | None = None) -> Identity:
        """Load (or make) the signing key and build the identity side. With a ``fetcher``,
        tokens of other Solid-OIDC issuers are accepted too (Solid-OIDC §8). ``pods`` tells
        which accounts' pods exist now (tokens die with their account); ``mark`` is the
        store's ``mark_once``, so DPoP proofs are refused once used by any process sharing
        the store (none: this process's memory); ``events`` the store's events, where client
        registrations are counted by every process alike (none: in memory)."""
        keys = await SigningKeys.load_or_create(system)
        tokens = AccessTokens(keys, issuer)
        replay = ReplayCache(mark)
        remote = RemoteTokens(fetcher) if fetcher is not None else None

        async def instances(webid: str) -> str | None:
            return await instance_of(pods, issuer, webid)

        return cls(issuer, keys, tokens, replay, Credentials(system), Provider(tokens),
                   Authenticator(tokens, replay, remote, instances=instances),
                   RegistrationLimit(events=events, blind=system.blind if events else None))
