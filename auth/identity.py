"""The identity side of the server, opened once at start-up: signing keys, tokens, the OAuth
provider, client credentials and the resource server's authenticator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auth.authenticate import Authenticator
from auth.credentials import Credentials
from auth.fetch import Fetcher
from auth.groups import GroupMembership
from auth.oidc.dpop import ReplayCache
from auth.oidc.provider import Provider
from auth.oidc.remote import RemoteTokens
from auth.oidc.tokens import AccessTokens, SigningKeys
from pod.store.system import SystemRecords

if TYPE_CHECKING:
    from pod.runtime import Runtime


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
    async def open(cls, system: SystemRecords, issuer: str) -> Identity:
        keys = await SigningKeys.load_or_create(system)
        tokens = AccessTokens(keys, issuer)
        replay = ReplayCache()
        return cls(issuer, keys, tokens, replay, Credentials(system), Provider(tokens),
                   Authenticator(tokens, replay))

    def federate(self, rt: Runtime) -> None:
        """Accept tokens of other Solid-OIDC issuers (Solid-OIDC §8) and resolve
        ``acl:agentGroup`` documents, fetching through one guarded :class:`Fetcher`."""
        fetcher = Fetcher(allow_private=rt.settings.allow_private_fetch)
        self.authenticator = Authenticator(self.tokens, self.replay, RemoteTokens(fetcher))
        rt.access.is_member = GroupMembership(rt.settings.base_url, rt.pods,
                                              rt.resources.store, fetcher).is_member
