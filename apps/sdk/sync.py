"""``SyncPodClient``: :class:`~apps.sdk.client.PodClient` for scripts, without ``await``."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from apps.sdk import discovery
from apps.sdk.client import PodClient
from apps.sdk.consent import Grant
from apps.sdk.login import Session, client_credentials
from apps.sdk.notifications import Channel
from apps.sdk.rdf import Graph, N3Patch
from apps.sdk.records import Record
from apps.sdk.resources import Body, Collected, Resource

T = TypeVar("T")


class SyncPodClient:
    """:class:`PodClient` for scripts: the same methods without ``await``, run on an event
    loop of its own. Not for use inside a running event loop (use :class:`PodClient` there).

    ``with SyncPodClient.login(issuer, client_id, secret) as pod: pod.get(url)``
    """

    def __init__(self, session: Session | None = None, **options: Any) -> None:
        self._runner = asyncio.Runner()
        self.client: PodClient = self._runner.run(_make(session, options))

    @classmethod
    def login(cls, issuer: str, client_id: str, client_secret: str,
              **options: Any) -> SyncPodClient:
        """A client signed in with a client credential
        (:func:`~apps.sdk.login.client_credentials`)."""
        made = cls(None, **options)
        made.client.session = made.run(client_credentials(issuer, client_id, client_secret,
                                                          http=made.client.http))
        return made

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run any SDK coroutine on this client's loop, e.g. ``pod.run(Community(
        pod.client).collect(...))``."""
        return self._runner.run(coroutine)

    def __enter__(self) -> SyncPodClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._runner.run(self.client.aclose())
        self._runner.close()

    @property
    def session(self) -> Session | None:
        return self.client.session

    def get(self, url: str, **kw: Any) -> Resource:
        return self.run(self.client.get(url, **kw))

    def head(self, url: str) -> Resource:
        return self.run(self.client.head(url))

    def graph(self, url: str) -> Graph:
        return self.run(self.client.graph(url))

    def put(self, url: str, body: Body, **kw: Any) -> Resource:
        return self.run(self.client.put(url, body, **kw))

    def post(self, container: str, body: Body, **kw: Any) -> Resource:
        return self.run(self.client.post(container, body, **kw))

    def patch(self, url: str, patch: N3Patch | str, **kw: Any) -> Resource:
        return self.run(self.client.patch(url, patch, **kw))

    def delete(self, url: str, **kw: Any) -> Resource:
        return self.run(self.client.delete(url, **kw))

    def profile(self, webid: str) -> discovery.Profile:
        return self.run(self.client.profile(webid))

    def type_index(self, webid: str, **kw: Any) -> list[discovery.TypeRegistration]:
        return self.run(self.client.type_index(webid, **kw))

    def issuer(self, issuer: str) -> discovery.IssuerConfiguration:
        return self.run(self.client.issuer(issuer))

    def collect(self, pod: str, cls: str | type[Record]) -> Collected:
        return self.run(self.client.collect(pod, cls))

    def subscribe(self, topic: str, **kw: Any) -> Channel:
        """A webhook channel (``webhook=URL``) is what a script makes; sockets are async
        (:meth:`PodClient.listen`)."""
        return self.run(self.client.subscribe(topic, **kw))

    def unsubscribe(self, channel: Channel | str) -> None:
        self.run(self.client.unsubscribe(channel))

    def grants(self, pod: str) -> list[Grant]:
        return self.run(self.client.grants(pod))


async def _make(session: Session | None, options: dict[str, Any]) -> PodClient:
    return PodClient(session, **options)  # made inside the loop that will use it
