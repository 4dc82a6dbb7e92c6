"""``PodClient``: reading and writing pods over HTTP (Solid Protocol §5, LDP, RFC 9110).

Every request carries a fresh DPoP proof when the client has a :class:`~apps.sdk.login.Session`
(renewed before it expires); error answers become the typed errors of :mod:`apps.sdk.errors`;
RDF comes and goes as :class:`~apps.sdk.rdf.Graph` values, Commonpod's classes as records
(:mod:`apps.sdk.records`). Idempotent requests are retried on 429, 503 and network errors,
honouring ``Retry-After`` (:class:`~apps.sdk.retry.Retry`); at most ``per_server`` requests
are in flight to one server at a time. :class:`~apps.sdk.sync.SyncPodClient` is the same for
scripts, without ``await``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import httpx
import pyoxigraph as ox
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake

from apps.sdk import discovery, notifications
from apps.sdk.consent import Grant, grants_of
from apps.sdk.errors import InvalidResponse, TransportError, problem
from apps.sdk.login import Session, discover_issuer
from apps.sdk.notifications import Channel, Notification
from apps.sdk.rdf import ACCEPT_RDF, JSON_LD, TURTLE, Graph, N3Patch
from apps.sdk.records import RECORD_TYPES, Record, Statement
from apps.sdk.resources import Body, Collected, Resource, encode_body, pod_parts
from apps.sdk.retry import NO_RETRY, Retry
from vocab.namespaces import LDP, SOLID, iri_of
from vocab.prefixes import expand

STORAGE_DESCRIPTION = iri_of(SOLID.storageDescription)


class PodClient:
    """An async HTTP client for pods. Use it as ``async with PodClient(session) as pod:``;
    without a session it is anonymous (it reads what anyone may)."""

    def __init__(self, session: Session | None = None, *, timeout: float = 20.0,
                 retry: Retry | None = None, per_server: int = 6,
                 http: httpx.AsyncClient | None = None) -> None:
        self.session = session
        self.retry = retry or Retry()
        self.per_server = per_server
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(
            timeout=timeout, follow_redirects=False,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64))
        self._servers: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> PodClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections (unless the ``http`` client was given)."""
        if self._own_http:
            await self.http.aclose()

    def _server(self, url: str) -> asyncio.Semaphore:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._servers:
            self._servers[origin] = asyncio.Semaphore(self.per_server)
        return self._servers[origin]

    # --- requests ---------------------------------------------------------------------------

    async def request(self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
                      content: bytes | None = None, params: Mapping[str, str] | None = None,
                      retry: Retry | None = None, ok: tuple[int, ...] = ()) -> httpx.Response:
        """One request with a fresh DPoP proof per try; an answer of 400 or more (not in
        ``ok``) raises its :class:`~apps.sdk.errors.ProblemError`."""
        policy = retry or self.retry
        if method.upper() not in policy.methods:
            policy = NO_RETRY
        attempt = 0
        while True:
            attempt += 1
            try:
                async with self._server(url):
                    response = await self._send(method, url, headers, content, params)
            except TransportError:
                wait = policy.delay(attempt, None)
                if wait is None:
                    raise
            else:
                if response.status_code < 400 or response.status_code in ok:
                    return response
                wait = policy.delay(attempt, response) \
                    if response.status_code in policy.statuses else None
                if wait is None:
                    raise problem(response)
            await asyncio.sleep(wait)

    async def _send(self, method: str, url: str, headers: Mapping[str, str] | None,
                    content: bytes | None, params: Mapping[str, str] | None) -> httpx.Response:
        sent = dict(headers or {})
        if self.session is not None:
            sent.update(await self.session.authorize(method, url, self.http))
        try:
            return await self.http.request(method, url, headers=sent, content=content,
                                           params=params)
        except httpx.TransportError as exc:
            raise TransportError(f"{method} {url} failed: {type(exc).__name__}", url) from None

    # --- data -------------------------------------------------------------------------------

    async def get(self, url: str, *, accept: str | None = None,
                  if_none_match: str | None = None) -> Resource:
        """``GET``; with ``if_none_match`` (an ETag) an unchanged resource answers status 304
        and no body."""
        headers = {"Accept": accept or "*/*"}
        if if_none_match is not None:
            headers["If-None-Match"] = if_none_match
        r = await self.request("GET", url, headers=headers, ok=(304,))
        return Resource(url, r.status_code, r.headers, r.content)

    async def head(self, url: str) -> Resource:
        """``HEAD``: status and headers (ETag, Link, WAC-Allow) without the body."""
        r = await self.request("HEAD", url)
        return Resource(url, r.status_code, r.headers)

    async def graph(self, url: str) -> Graph:
        """The RDF document at ``url`` as a graph."""
        return (await self.get(url, accept=ACCEPT_RDF)).graph()

    async def put(self, url: str, body: Body, *, content_type: str | None = None,
                  if_match: str | None = None, if_none_match: str | None = None) -> Resource:
        """Create or replace the resource at ``url``. ``body`` is bytes or text (say its
        ``content_type``), a :class:`Graph` (Turtle), a record (Turtle; a statement as its
        JSON-LD credential) or JSON-LD (a dict). ``if_match=etag`` replaces only that version
        (else :class:`~apps.sdk.errors.PreconditionFailed`); ``if_none_match="*"`` only
        creates."""
        data, kind = encode_body(body, content_type)
        headers = {"Content-Type": kind}
        if if_match is not None:
            headers["If-Match"] = if_match
        if if_none_match is not None:
            headers["If-None-Match"] = if_none_match
        r = await self.request("PUT", url, headers=headers, content=data)
        return Resource(url, r.status_code, r.headers, r.content)

    async def post(self, container: str, body: Body, *, content_type: str | None = None,
                   slug: str | None = None) -> Resource:
        """Create a resource in ``container``; the answer's ``location`` is its URL."""
        data, kind = encode_body(body, content_type)
        headers = {"Content-Type": kind}
        if slug is not None:
            headers["Slug"] = slug
        r = await self.request("POST", container, headers=headers, content=data)
        return Resource(container, r.status_code, r.headers, r.content)

    async def patch(self, url: str, patch: N3Patch | str, *,
                    if_match: str | None = None) -> Resource:
        """Apply an N3 Patch (Solid Protocol §5.3.1; ``text/n3``)."""
        headers = {"Content-Type": "text/n3"}
        if if_match is not None:
            headers["If-Match"] = if_match
        text = patch.text() if isinstance(patch, N3Patch) else patch
        r = await self.request("PATCH", url, headers=headers, content=text.encode())
        return Resource(url, r.status_code, r.headers, r.content)

    async def delete(self, url: str, *, if_match: str | None = None) -> Resource:
        """Delete the resource at ``url``."""
        headers = {"If-Match": if_match} if if_match is not None else {}
        r = await self.request("DELETE", url, headers=headers)
        return Resource(url, r.status_code, r.headers, r.content)

    # --- identity and discovery -------------------------------------------------------------

    async def profile(self, webid: str) -> discovery.Profile:
        """What a WebID's profile says: issuers, storages, type indexes (read as this client
        may; profiles are public)."""
        document = webid.split("#", 1)[0]
        return discovery.profile_of(webid, await self.graph(document))

    async def type_index(self, webid: str, *, private: bool = True
                         ) -> list[discovery.TypeRegistration]:
        """The type registrations of a WebID's public type index, and, with ``private``, of
        its private one too (which only the owner, or an app they allowed, may read)."""
        found = await self.profile(webid)
        indexes = [found.public_type_index] if found.public_type_index else []
        if private and found.preferences_file:
            prefs = await self.graph(found.preferences_file)
            hidden = discovery.private_type_index(webid, prefs)
            if hidden:
                indexes.append(hidden)
        registrations: list[discovery.TypeRegistration] = []
        for index in indexes:
            registrations += discovery.registrations(await self.graph(index))
        return registrations

    async def issuer(self, issuer: str) -> discovery.IssuerConfiguration:
        """An issuer's OpenID configuration."""
        return await discover_issuer(issuer, self.http)

    # --- Commonpod's API --------------------------------------------------------------------

    async def collect(self, pod: str, cls: str | type[Record]) -> Collected:
        """Every document of class ``cls`` (an IRI, ``cp:Name``, or a record type such as
        :class:`~apps.sdk.records.Contribution`) that this client may read in ``pod``, in one
        request (``GET /.api/collect``, docs/api.md §7)."""
        iri = cls.cls if isinstance(cls, type) else expand(cls)
        base, name = pod_parts(pod)
        r = await self.request("GET", base + ".api/collect",
                               params={"pod": name, "class": iri},
                               headers={"Accept": TURTLE})
        graph = Resource(str(r.request.url.copy_with(query=None)), r.status_code, r.headers,
                         r.content).graph()
        documents = sorted(t.object.value for t in graph.triples(None, ox.NamedNode(
            str(LDP.contains))) if isinstance(t.object, ox.NamedNode))
        found = Collected(pod, iri, graph, documents)
        kind = RECORD_TYPES.get(iri)
        if kind is not None and issubclass(kind, Statement):
            read = await asyncio.gather(*(self._statement(kind, d) for d in documents))
            found.records = [r for r in read if isinstance(r, Statement)]
            found.problems = {d: r for d, r in zip(documents, read, strict=True)
                              if isinstance(r, str)}
        elif kind is not None:
            records, found.problems = kind.read_all(graph)
            found.records = list(records)
        return found

    async def _statement(self, kind: type[Statement], url: str) -> Statement | str:
        """The statement in a document as it is stored (signed), or why it is none."""
        got = await self.get(url, accept=JSON_LD)
        try:
            return kind.from_credential(got.json())
        except ValueError as exc:
            return f"{url} is not a {kind.__name__}: {exc}"

    async def grants(self, pod: str) -> list[Grant]:
        """What this app holds in ``pod`` now (``GET /.api/grants/mine``, docs/api.md §5):
        the active grants to it, each with the permissions still in force; none: ``[]``.
        Asked by the pod's owner acting directly, it is :class:`~apps.sdk.errors.Forbidden`
        (the owner holds everything)."""
        base, name = pod_parts(pod)
        r = await self.request("GET", base + ".api/grants/mine", params={"pod": name},
                               headers={"Accept": "application/json"})
        try:
            answer = r.json()
        except ValueError:
            raise InvalidResponse(f"{base}.api/grants/mine answered no JSON") from None
        grants = answer.get("grants") if isinstance(answer, dict) else None
        if not isinstance(grants, list):
            raise InvalidResponse(f"{base}.api/grants/mine answered no list of grants")
        return grants_of(grants)

    # --- live notifications -------------------------------------------------------------------

    async def subscription_services(self, topic: str) -> dict[str, str]:
        """The subscription services of the server holding ``topic``, by channel type: found
        through the storage description the topic's ``Link`` names (the server root's
        ``/.well-known/solid`` when the topic does not exist yet)."""
        r = await self.request("HEAD", topic, ok=(401, 403, 404))
        described = Resource(topic, r.status_code, r.headers).links.get(STORAGE_DESCRIPTION)
        url = described[0] if described else urljoin(topic, "/.well-known/solid")
        return notifications.services(await self.graph(url), url)

    async def subscribe(self, topic: str, *, webhook: str | None = None,
                        end_at: datetime | None = None) -> Channel:
        """Make a notification channel on ``topic`` (a resource or container URL): a socket
        to :meth:`listen` to, or with ``webhook`` (an https URL) one the server POSTs each
        notification to. ``end_at`` asks for an end (the server may choose a sooner one).
        Only a reader of the topic may subscribe (else :class:`~apps.sdk.errors.Forbidden`)."""
        kind = notifications.WEBHOOK if webhook else notifications.WEBSOCKET
        service = (await self.subscription_services(topic)).get(kind)
        if service is None:
            raise InvalidResponse(f"the server holding {topic} offers no {kind} channels")
        r = await self.request("POST", service, headers={"Content-Type": JSON_LD},
                               content=notifications.subscription_request(
                                   kind, topic, send_to=webhook, end_at=end_at))
        try:
            return Channel.from_json(r.json())
        except ValueError:
            raise InvalidResponse(f"{service} answered no JSON") from None

    @contextlib.asynccontextmanager
    async def listen(self, channel: Channel) -> AsyncIterator[AsyncIterator[Notification]]:
        """Open a socket channel's ``receive_from`` URL: ``async with pod.listen(channel) as
        changes: async for change in changes: …`` — the iteration ends when the server ends
        the channel (unsubscribed, expired, or this app may no longer read the topic)."""
        if channel.receive_from is None:
            raise ValueError("only a WebSocketChannel2023 channel is listened to")
        try:
            async with connect(channel.receive_from, open_timeout=self.http.timeout.connect
                               ) as socket:
                yield notifications.notifications(socket)
        except (OSError, InvalidHandshake) as exc:
            raise TransportError(f"cannot open the channel's socket: {type(exc).__name__}",
                                 channel.id) from None

    async def unsubscribe(self, channel: Channel | str) -> None:
        """End a channel (its subscriber only); one ended already is fine."""
        url = channel.id if isinstance(channel, Channel) else channel
        await self.request("DELETE", url, ok=(404,))
