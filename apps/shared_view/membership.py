"""Joining and leaving: a member names their WebID or server, signs in on their own server
(the authorization-code flow through the SDK), consents there, and is a member once the app,
acting as itself, finds the grant in their pod. Being named is a separate need the member may
untick. Leaving on the app, or a verified ``grant.revoked`` event from their server, removes
them and deletes what the app cached of them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from apps.sdk import (
    CodeFlow,
    Contribution,
    EventError,
    GrantEvent,
    PodClient,
    SdkError,
    verify_grant_event,
)
from apps.sdk.needs import PROFILE_DOCUMENT
from apps.shared_view.addresses import checked_url
from apps.shared_view.cache import MemberCache
from apps.shared_view.model import Member
from apps.shared_view.pod_store import CommunityPod

FLOW_SECONDS = 600  # a sign-in not finished within ten minutes is dropped
MAX_PENDING = 1000


class JoinError(Exception):
    """A join that cannot go on; the message is for the member."""


@dataclass
class Pending:
    flow: CodeFlow
    started: float


class Membership:
    """Members coming and going."""

    def __init__(self, pod: CommunityPod, app: PodClient, cache: MemberCache, *,
                 redirect_uri: str, allow_private: bool) -> None:
        self.pod, self.app, self.cache = pod, app, cache
        self.redirect_uri = redirect_uri
        self.allow_private = allow_private
        self._pending: dict[str, Pending] = {}

    async def issuer_of(self, who: str) -> str:
        """The issuer to sign in at: a WebID's (its profile's ``solid:oidcIssuer``), or the
        server named."""
        url = await checked_url(who, allow_private=self.allow_private)
        if "#" not in url:
            return url if url.endswith("/") else url + "/"
        try:
            profile = await self.app.profile(url)
        except SdkError as exc:
            raise JoinError(f"the profile of {url} could not be read ({exc})") from None
        if not profile.issuers:
            raise JoinError(f"the profile of {url} names no server to sign in at")
        return await checked_url(profile.issuers[0], allow_private=self.allow_private)

    async def start(self, who: str) -> CodeFlow:
        """A sign-in for the member who named ``who`` (WebID or server URL)."""
        issuer = await self.issuer_of(who)
        self._drop_stale()
        try:
            flow = await CodeFlow.start(issuer, self.pod.client_id, self.redirect_uri,
                                        http=self.app.http)
        except SdkError as exc:
            raise JoinError(f"{issuer} is not a Solid server this app can sign in at "
                            f"({exc})") from None
        self._pending[flow.state] = Pending(flow, time.monotonic())
        return flow

    def _drop_stale(self) -> None:
        now = time.monotonic()
        for state in [s for s, p in self._pending.items() if now - p.started > FLOW_SECONDS]:
            del self._pending[state]
        while len(self._pending) >= MAX_PENDING:
            del self._pending[next(iter(self._pending))]

    async def finish(self, state: str, callback_url: str) -> Member:
        """The member the sign-in behind ``callback_url`` made, once their grant exists."""
        pending = self._pending.pop(state, None)
        if pending is None or time.monotonic() - pending.started > FLOW_SECONDS:
            raise JoinError("this sign-in is unknown or has expired; start again")
        flow = pending.flow
        try:
            session = await flow.finish(callback_url, http=self.app.http)
        except SdkError as exc:
            raise JoinError(f"the sign-in was not completed: {exc}") from None
        webid = session.webid
        if webid is None:
            raise JoinError("your server did not say who you are (no WebID)")
        profile = await self.app.profile(webid)
        if flow.issuer not in profile.issuers or profile.storage is None:
            raise JoinError(f"{webid} does not name {flow.issuer} as its server, or no pod")
        try:
            grants = await self.app.grants(profile.storage)
        except SdkError as exc:
            raise JoinError(f"the community could not see what you granted ({exc})") from None
        if not any(g.allows("read", Contribution.cls) for g in grants):
            raise JoinError("you did not allow the community to read your contributions, "
                            "so you are not a member")
        named = any(g.allows("read", PROFILE_DOCUMENT) for g in grants)
        member = Member(webid, profile.storage, flow.issuer,
                        (profile.name or webid) if named else None)
        await self.pod.add_member(member)
        return member

    async def leave(self, webid: str) -> None:
        """``webid`` is no member any more; what was cached of them is deleted."""
        await self.pod.remove_members({webid})
        self.cache.forget(webid)

    async def on_event(self, body: bytes) -> GrantEvent:
        """A ``grant.revoked`` event, verified against the JWKS of the member's issuer; its
        owner leaves. :class:`~apps.sdk.EventError` for one that does not verify."""
        members = await self.pod.members()
        trusted = {m.issuer for m in members.values()}
        event = await verify_grant_event(body, client_id=self.pod.client_id,
                                         trusted_issuers=trusted, http=self.app.http)
        member = members.get(event.owner)
        if member is not None and member.issuer != event.issuer:
            raise EventError("the event's issuer is not the one its owner signed in with")
        if member is not None:
            await self.leave(event.owner)
        self.cache.forget(event.owner)  # one who already left: nothing more to do
        return event
