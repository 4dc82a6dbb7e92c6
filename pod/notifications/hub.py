"""Live notifications (Solid Notifications Protocol 0.2): subscribing, deciding who may hear a
change, and delivering it — on a socket held by any process, or to a webhook.

How a change travels, across every process sharing the store:

1. A committed write calls :meth:`Notifications.changed` (``ResourceService.on_change``). It
   costs a dictionary lookup when no channel listens to any topic the write touches; else the
   change is queued for this process's dispatcher and the answer goes out at once.
2. The dispatcher builds the activities (:mod:`pod.notifications.activities`) and decides, for
   every channel on each topic, whether its subscriber may still read the topic — WAC and, for
   an app, the owner's grant, exactly as a GET would be decided. A channel whose subscriber may
   not is ended: a revoked grant, an expired one or a changed ACL ends its subscriptions, and a
   change of an ACL or of a grant ends at once every channel of that pod it took the access of.
3. A webhook channel is posted to by this process, the one that made the change: each event
   is delivered once, however many processes run. Socket channels get it from this process's
   own sockets at once, and through the store's message feed (sealed with the server's key)
   from the sockets other processes hold; they poll the feed every :data:`POLL` seconds.

A new channel is in the store when the subscription is answered, and the answer waits two
polls, so every running process knows the channel before its subscriber can make a change.

Every subscription is recorded in the pod owner's access log (method ``SUBSCRIBE``, allowed or
refused); the notifications themselves say only that a resource changed (its URL and ETag),
which the subscriber could see by reading it, and are not logged one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any
from urllib.parse import urlsplit

from auth.accounts import instance_of
from auth.fetch import Fetcher, FetchError, FetchRefused
from pod.access.agent import Agent
from pod.access.audit import AccessLog
from pod.access.decide import AccessDecider
from pod.access.grants import GRANTS
from pod.access.reading import ReadService
from pod.errors import NotFound, PodError, Unauthenticated
from pod.notifications.activities import Activity, activities, topics
from pod.notifications.channels import (
    ANONYMOUS_SECONDS,
    DEFAULT_SECONDS,
    MAX_DAYS,
    MEDIA_TYPE,
    WEBHOOK,
    WEBSOCKET,
    Channel,
    Request,
    new_id,
    new_secret,
    receive_hash,
)
from pod.notifications.registry import Registry
from pod.resources.paths import Target
from pod.resources.service import Changed
from pod.store.base import Backend
from pod.store.directory import PodDirectory
from pod.store.system import SystemRecords

POLL = 0.1
"""Seconds between two looks at the message feed and the channels' generation."""
SETTLE = 0.05
"""Seconds beyond two polls a subscription waits before it is answered."""
SWEEP = 60.0
"""Seconds between two removals of expired channels from the store."""
KEEP = 60.0
"""Seconds a message stays in the feed (a process that stalls longer misses it)."""
QUEUED = 10_000
"""Changes waiting for the dispatcher at most; past it a change is not told (and logged)."""
SOCKET_QUEUE = 256
"""Notifications waiting for one socket at most; a socket that reads slower is closed."""
RETRIES = (1.0, 5.0)
SENDING = 32
"""Webhook posts on the wire at once."""
MAX_POSTS = 1_000
"""Webhook deliveries waiting or retrying at most; past it a notification is not posted."""
DRAIN = 1.0
"""Seconds a stopping server spends telling the changes already queued."""
FEED = "notifications"
METHOD = "SUBSCRIBE"

log = logging.getLogger(__name__)
Outbox = asyncio.Queue[str | None]
Seen = dict[tuple[str, str], str | None]
"""Instances looked up, by ``("pod", name)`` or ``("webid", WebID)`` (``None``: gone)."""


class Notifications:
    """Channels, dispatch and delivery of one process (built once at start-up)."""

    def __init__(self, base_url: str, backend: Backend, system: SystemRecords,
                 pods: PodDirectory, reads: ReadService, access: AccessDecider, log_: AccessLog,
                 fetcher: Fetcher, *, poll: float = POLL, retries: tuple[float, ...] = RETRIES,
                 sweep: float = SWEEP):
        self.base_url = base_url
        self._backend, self._system, self._pods = backend, system, pods
        self._reads, self._access, self._log, self._fetcher = reads, access, log_, fetcher
        self._poll, self._retries = poll, retries
        self.registry = Registry(system, self._ended)
        self._sockets: dict[str, set[Outbox]] = {}
        self._changes: asyncio.Queue[Changed] = asyncio.Queue(QUEUED)
        self._origin = secrets.token_hex(8)
        self._cursor = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweep = sweep
        self._posting = 0
        self._sending = asyncio.Semaphore(SENDING)

    async def start(self) -> None:
        """Read the channels and start polling and dispatching (inside the event loop); a
        store that cannot be read now is read again at the next poll."""
        self._pods.on_gone(self._pod_gone)
        try:
            await self.registry.refresh()
        except Exception:
            log.exception("notifications: the channels could not be read; trying again")
        self._cursor = await self._backend.last_message()
        self._spawn(self._polling())
        self._spawn(self._dispatching())

    async def close(self) -> None:
        """Stop: tell what is queued (for a second at most), then close every socket this
        process holds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN):
                await self._changes.join()
        for outboxes in self._sockets.values():
            for outbox in outboxes:
                _close(outbox)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- subscribing -----------------------------------------------------------------------

    async def subscribe(self, request: Request, agent: Agent) -> tuple[Channel, str | None]:
        """Make a channel for ``agent`` if it may read the topic (401/403 otherwise, and 401
        for an anonymous webhook); the channel and, for a socket, the secret of its
        ``receiveFrom`` URL (given only now)."""
        target = request.target
        keys = await self._pods.find(target.pod)
        if keys is None:
            raise NotFound(f"there is no pod named {target.pod!r} on this server")
        decision, status = await self._reads.decide_read(keys, target, agent), 200
        try:
            if request.type == WEBHOOK and not agent.authenticated:
                raise Unauthenticated("a webhook channel needs a signed-in subscriber")
            decision.require()
        except PodError as refused:
            status = refused.status
            raise
        finally:
            self._log.record_request(keys, self._access.owner(target.pod), agent,
                                     request.topic, "read", METHOD, status, decision.grant)
        now = time.time()
        longest = now + (ANONYMOUS_SECONDS if agent.webid is None else MAX_DAYS * 86_400.0)
        end = min(request.end_at or now + DEFAULT_SECONDS[request.type], longest)
        secret = new_secret() if request.type == WEBSOCKET else None
        subscriber = await instance_of(self._pods, self.base_url, agent.webid) \
            if agent.webid else None
        channel = Channel(new_id(), request.type, request.topic, target.pod, target.path,
                          keys.instance, agent, now, end, request.send_to,
                          receive_hash(secret) if secret else None, subscriber)
        await self.registry.add(channel, now)
        # answered once every process has polled since: a change made through any of them
        # right after the answer is told (a process polls every `poll` seconds)
        await asyncio.sleep(2 * self._poll + SETTLE)
        return channel, secret

    async def find(self, channel_id: str, agent: Agent) -> Channel:
        """The channel ``channel_id`` as its subscriber sees it; 404 for anyone else (an
        anonymous channel: anyone who knows its id)."""
        await self.registry.refresh()
        channel = self.registry.by_id.get(channel_id)
        if channel is None or not channel.live(time.time()) or (
                channel.agent.webid is not None and (channel.agent.webid, channel.agent.app)
                != (agent.webid, agent.app)):
            raise NotFound("there is no such channel (or it has ended)")
        return channel

    async def unsubscribe(self, channel_id: str, agent: Agent) -> None:
        """End a channel (Solid Notifications Protocol §5: a DELETE of the channel)."""
        channel = await self.find(channel_id, agent)
        await self.registry.remove([channel.id], time.time())

    # --- sockets ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def listen(self, secret: str) -> AsyncIterator[tuple[Channel, Outbox] | None]:
        """The socket channel whose ``receiveFrom`` secret is ``secret`` and the queue of its
        notifications (``None`` in it: the channel ended); ``None`` when there is none."""
        digest = receive_hash(secret)
        if digest not in self.registry.by_receive:
            await self.registry.refresh()  # made through another process a moment ago
        channel_id = self.registry.by_receive.get(digest)
        channel = self.registry.by_id.get(channel_id) if channel_id else None
        if channel is None or not channel.live(time.time()):
            yield None
            return
        outbox: Outbox = asyncio.Queue(SOCKET_QUEUE)
        self._sockets.setdefault(channel.id, set()).add(outbox)
        try:
            yield channel, outbox
        finally:
            held = self._sockets.get(channel.id)
            if held is not None:
                held.discard(outbox)
                if not held:
                    del self._sockets[channel.id]

    # --- changes ---------------------------------------------------------------------------

    def changed(self, changed: Changed) -> None:
        """A committed write (called by the resource service): queue it when a channel may
        care — one listens to a topic it touches, or it changed an ACL or a grant of a pod
        with channels."""
        listening = self.registry.by_topic
        if not listening:
            return
        if not (_access_changed(changed) or
                any(topic in listening for topic in topics(self.base_url, changed))):
            return
        try:
            self._changes.put_nowait(changed)
        except asyncio.QueueFull:
            log.warning("notifications: %d changes waiting; one was not told", QUEUED)

    async def _dispatching(self) -> None:
        while True:
            changed = await self._changes.get()
            try:
                await self._dispatch(changed)
            except Exception:
                log.exception("notifications: a change could not be dispatched")
            finally:
                self._changes.task_done()

    async def _dispatch(self, changed: Changed) -> None:
        now = time.time()
        instance = changed.keys.instance
        if _access_changed(changed):
            mine = [c for c in self.registry.by_id.values() if c.instance == instance]
            await self._end_refused(changed, [(c, c.target) for c in mine], now)
        seen: Seen = {("pod", changed.target.pod): instance}
        for activity in activities(self.base_url, changed):
            listening: list[Channel] = []
            gone: list[Channel] = []
            for channel in self.registry.on(activity.topic):
                if channel.live(now):
                    (gone if await self._gone(channel, seen) else listening).append(channel)
            if gone:
                await self.registry.remove([c.id for c in gone], now)
            if listening:
                allowed = await self._end_refused(
                    changed, [(c, activity.target) for c in listening], now)
                await self._deliver(activity, allowed)

    async def _end_refused(self, changed: Changed, channels: list[tuple[Channel, Target]],
                           now: float) -> list[Channel]:
        """The channels whose subscribers may still read their target; the others end."""
        allowed: list[Channel] = []
        refused: list[Channel] = []
        for channel, target in channels:
            decision = await self._reads.decide_read(changed.keys, target, channel.agent)
            (allowed if decision.allowed else refused).append(channel)
        if refused:
            log.info("notifications: %d channel(s) ended: their subscribers may no longer "
                     "read the topic", len(refused))
            await self.registry.remove([c.id for c in refused], now)
        return allowed

    async def _deliver(self, activity: Activity, channels: list[Channel]) -> None:
        text = json.dumps(activity.body, separators=(",", ":"))
        sockets = [c.id for c in channels if c.type == WEBSOCKET]
        for channel in channels:
            if channel.type == WEBHOOK and channel.send_to:
                if self._posting >= MAX_POSTS:
                    log.warning("notifications: %d webhook deliveries waiting; one to %s "
                                "was not sent", MAX_POSTS, _host(channel.send_to))
                    continue
                self._spawn(self._post(channel, text.encode()))
        if sockets:
            self._to_sockets(sockets, text)
            message = json.dumps({"o": self._origin, "c": sockets, "n": text}).encode()
            await self._backend.publish(self._system.seal(FEED, message), time.time() + KEEP)

    def _to_sockets(self, channel_ids: list[str], text: str) -> None:
        for channel_id in channel_ids:
            for outbox in list(self._sockets.get(channel_id, ())):
                try:
                    outbox.put_nowait(text)
                except asyncio.QueueFull:  # a reader this slow is closed, not waited for
                    _close(outbox, force=True)

    async def _post(self, channel: Channel, body: bytes) -> None:
        """POST a notification to a webhook, retrying a network error, 429 or 5xx; a 404 or
        410 ends the channel (the receiver is gone)."""
        assert channel.send_to is not None
        status: int | None = None
        self._posting += 1
        try:
            for delay in (*self._retries, None):
                async with self._sending:  # at most SENDING posts on the wire at once
                    try:
                        status = await self._fetcher.post(channel.send_to, body, MEDIA_TYPE)
                    except FetchRefused:
                        status = None
                        break
                    except FetchError:
                        status = None
                if status is not None and status != 429 and status < 500:
                    break  # delivered, or refused for good
                if delay is not None:
                    await asyncio.sleep(delay)
        finally:
            self._posting -= 1
        if status in (404, 410):
            await self.registry.remove([channel.id], time.time())
        if status is None or not 200 <= status <= 299:
            log.info("notifications: webhook to %s not delivered (%s)",
                     _host(channel.send_to), status if status is not None else "no answer")

    # --- polling ---------------------------------------------------------------------------

    async def _polling(self) -> None:
        swept = time.monotonic()
        while True:
            await asyncio.sleep(self._poll)
            try:
                await self._poll_once()
                if time.monotonic() - swept >= self._sweep:
                    swept = time.monotonic()
                    await self.registry.sweep(time.time())
                    await self._end_orphans()
                    # expired messages go now, not only when enough are published after them
                    await self._backend.purge_messages(time.time())
            except Exception:
                log.exception("notifications: polling failed; trying again")

    async def _end_orphans(self) -> None:
        """End the channels whose topic's pod, or whose subscriber's account, is gone (deleted
        by any process, or through the command line): one lookup per pod or WebID."""
        seen: Seen = {}
        gone = [c.id for c in list(self.registry.by_id.values()) if await self._gone(c, seen)]
        if gone:
            await self.registry.remove(gone, time.time())

    async def _gone(self, channel: Channel, seen: Seen) -> bool:
        """Whether the topic's pod, or the subscriber's account on this server, is no longer
        the one the channel was made for (its name deleted, or taken again); ``seen`` holds
        the instances looked up already."""
        if ("pod", channel.pod) not in seen:
            keys = await self._pods.find(channel.pod)
            seen["pod", channel.pod] = keys.instance if keys else None
        if seen["pod", channel.pod] != channel.instance:
            return True
        webid = channel.agent.webid
        if webid is None or channel.subscriber_instance is None:
            return False
        if ("webid", webid) not in seen:
            seen["webid", webid] = await instance_of(self._pods, self.base_url, webid)
        return seen["webid", webid] != channel.subscriber_instance

    def _pod_gone(self, name: str, instance: str) -> None:
        """A pod this process destroyed or replaced: its channels end, and those of its
        owner's subscriptions elsewhere (an instance names one pod among all that ever had
        the name)."""
        ended = [c.id for c in self.registry.by_id.values()
                 if instance in (c.instance, c.subscriber_instance)]
        if ended:
            self._spawn(self.registry.remove(ended, time.time()))

    async def _poll_once(self) -> None:
        await self.registry.refresh()
        now = time.time()
        for channel_id in list(self._sockets):
            channel = self.registry.by_id.get(channel_id)
            if channel is None or not channel.live(now):
                for outbox in self._sockets.pop(channel_id, ()):
                    _close(outbox)
        for seq, sealed in await self._backend.messages(self._cursor, now):
            self._cursor = seq
            try:
                message = json.loads(self._system.open(FEED, sealed))
                if message["o"] != self._origin:
                    self._to_sockets(message["c"], message["n"])
            except Exception:  # one bad message (another deployment's?) stops no other
                log.warning("notifications: a message of the feed could not be read")

    def _ended(self, channel: Channel) -> None:
        for outbox in self._sockets.pop(channel.id, ()):
            _close(outbox)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _access_changed(changed: Changed) -> bool:
    """Whether a write may have changed who reads what: an ACL or a grant."""
    path = changed.target.path
    return path.endswith(".acl") or path.startswith(GRANTS)


def _close(outbox: Outbox, *, force: bool = False) -> None:
    """Tell a socket's sender to close: after what is queued, or (``force``, or no room
    left) at once."""
    if force or outbox.full():
        while not outbox.empty():
            outbox.get_nowait()
    outbox.put_nowait(None)


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"
