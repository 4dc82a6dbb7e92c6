"""The app's one service, built once at start: signs in as the community, makes sure its
settings and Client ID Document are in its pod, and holds what the pages show — the latest
figures (exact with k-suppression, or the latest noisy release), the last refresh report and
the privacy-budget ledger. Refreshes run on a schedule and on demand, one at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from apps.community_kit.schedule import repeating
from apps.community_kit.signin import signed_in
from apps.sdk import (
    ClientIdDocument,
    PodClient,
    access_need,
    publish_client_document,
)
from apps.sdk.needs import PROFILE_DOCUMENT
from apps.shared_view import model, privacy
from apps.shared_view.aggregate import Figures, figures
from apps.shared_view.cache import MemberCache
from apps.shared_view.config import Config, SettingsChange
from apps.shared_view.membership import Membership
from apps.shared_view.pod_store import CommunityPod
from apps.shared_view.refresh import Report, merged, refresh
from vocab.prefixes import expand

log = logging.getLogger("apps.shared_view")


def _decimal(text: str, name: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{name} must be a number, not {text!r}") from None


def apply_change(current: model.Settings | None, change: SettingsChange) -> model.Settings:
    """The settings after the command line's changes (a new community needs a name)."""
    base = current or model.Settings(name=change.name or "")
    updates: dict[str, object] = {
        k: v for k, v in (("name", change.name), ("description", change.description),
                          ("projects", change.projects), ("k", change.k),
                          ("duration", change.duration)) if v is not None}
    if change.purpose is not None:
        updates["purpose"] = expand(change.purpose)
    if change.epsilon is not None:
        updates["epsilon"] = _decimal(change.epsilon, "--epsilon")
    if change.budget is not None:
        updates["budget"] = _decimal(change.budget, "--budget")
    return replace(base, **updates)  # type: ignore[arg-type]  # Settings checks its fields


def client_document(config: Config, pod: CommunityPod, settings: model.Settings
                    ) -> ClientIdDocument:
    """The app's Client ID Document: "read your contributions" for the community's purpose and
    duration, and the separate, refusable need to be named."""
    return ClientIdDocument(
        client_id=pod.client_id, client_name=settings.name,
        redirect_uris=[config.redirect_uri],
        needs=[access_need(id="contributions", cls="cp:Contribution", modes=["read"],
                           purpose=settings.purpose, duration=settings.duration,
                           description=f"Count your contributions, with everyone else's, in "
                                       f"{settings.name}'s shared view. Figures from fewer "
                                       f"than {settings.k} members are never shown."),
               access_need(id="named", cls=PROFILE_DOCUMENT, modes=["read"],
                           purpose=model.NAMING_PURPOSE, duration=settings.duration,
                           description="Show your name on the community's list of members. "
                                       "Untick this to stay unnamed."),
               # the rewards app (apps/rewards) appends the badges members earn
               access_need(id="rewards", cls="cp:RewardStatement", modes=["append"],
                           purpose=settings.purpose, duration=settings.duration,
                           description=f"Add the badges you earn in {settings.name} to your "
                                       "pod. The community can add badges, never read or "
                                       "change what is there. Untick this to receive none.")],
        agent_webid=config.community, grant_webhook=config.webhook)


class SharedView:
    """Everything the pages use."""

    def __init__(self, config: Config, app: PodClient, pod: CommunityPod,
                 settings: model.Settings) -> None:
        self.config, self.app, self.pod, self.settings = config, app, pod, settings
        self.cache = MemberCache()
        self.membership = Membership(pod, app, self.cache, redirect_uri=config.redirect_uri,
                                     allow_private=config.allow_private_fetch)
        self.report: Report | None = None
        self.figures: Figures | None = None
        self.released: privacy.Released | None = None
        self.ledger = model.Ledger()
        self.members: dict[str, model.Member] = {}
        self._lock = asyncio.Lock()
        self._last = 0.0

    async def refresh(self, *, on_demand: bool = False) -> Report | None:
        """Read every member and recompute the figures; an on-demand refresh right after
        another one is skipped (``None``)."""
        async with self._lock:
            if on_demand and time.monotonic() - self._last < self.config.min_refresh_gap:
                return None
            self.settings = await self.pod.settings() or self.settings
            report = await self._read()
            await self._recompute()
            self.report, self._last = report, time.monotonic()
            return report

    async def refresh_member(self, webid: str) -> None:
        """Read one member (who just joined) and recompute the figures; the others' cached
        contributions stand until the next full refresh."""
        async with self._lock:
            report = await self._read(frozenset({webid}))
            await self._recompute()
            self.report = merged(self.report, report)

    async def _read(self, only: frozenset[str] | None = None) -> Report:
        return await refresh(
            self.pod, self.app, self.cache,
            projects=frozenset(p.iri for p in self.settings.projects),
            concurrency=self.config.concurrency, timeout=self.config.timeout, only=only)

    async def _recompute(self) -> None:
        self.members = await self.pod.members()
        self.cache.keep_only(self.members)
        await self._publish()

    async def _publish(self) -> None:
        s = self.settings
        if s.epsilon <= 0:
            self.figures = figures(self.cache.items(), k=s.k,
                                   projects={p.iri: p.name for p in s.projects})
            return
        self.ledger = await self.pod.ledger()
        new = privacy.release(self.cache.items(), s, self.ledger, self.released,
                              cap=self.config.noise_cap)
        if new is not None:
            if new.release.epsilon > 0:
                self.ledger = await self.pod.record_release(new.release)
            self.released = new
        self.figures = self.released.figures if self.released else None

    async def forget(self, webid: str) -> None:
        """After a member left: drop them from every figure at once."""
        async with self._lock:
            self.members = await self.pod.members()
            self.cache.keep_only(self.members)
            self.cache.forget(webid)
            await self._publish()


@contextlib.asynccontextmanager
async def running(config: Config) -> AsyncIterator[SharedView]:
    """Sign in as the community, set up its pod, publish the Client ID Document, and refresh
    on schedule until the app stops."""
    async with signed_in(config.community, config.credential, per_server=config.per_server,
                         timeout=config.timeout) as community:
        app = community.client
        pod = CommunityPod(app, community.storage)
        current = await pod.settings()
        settings = apply_change(current, config.settings)
        if settings != current:
            await pod.save_settings(settings)
        await publish_client_document(app, client_document(config, pod, settings))
        view = SharedView(config, app, pod, settings)
        view.members = await pod.members()
        view.ledger = await pod.ledger()
        async with repeating(view.refresh, config.refresh_every, at_once=True, log=log,
                             failed="scheduled refresh failed"):
            yield view
