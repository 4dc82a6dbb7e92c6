"""The applications that may ask for tokens through the authorization-code flow.

Two kinds (Solid-OIDC §5):

- **Registered clients** (RFC 7591 dynamic registration): sealed system records
  ``oidc-client:{client_id}``; a confidential client's secret is kept as a SHA-256 only.
  Registration is open, so a client never used to obtain a token within
  :data:`UNUSED_LIFETIME` of its registration is refused from then on and deleted: each
  registration is listed under its hour (``oidc-clients:new``, chunks of :data:`CHUNK` ids —
  a blinded store cannot be scanned), and each registration deletes the never-used clients of
  the hours that have run out. A client's first token marks it used; its last use is written
  at most once a day.
- **Client ID Documents** (Solid-OIDC §5.1): the ``client_id`` is an https URL (http on
  loopback) that dereferences to a JSON-LD document whose own ``client_id`` is that URL.
  Fetched through the guarded fetcher (:mod:`auth.fetch`) and cached for a few minutes; one
  kept in a pod of this server is read from the store instead, under the rule of an anonymous
  GET (:mod:`pod.access.documents`), so local development needs no ``allow_private_fetch``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from auth import untrusted_json
from auth.fetch import Fetcher, FetchError
from auth.oidc import client_metadata
from auth.oidc.client_metadata import ClientError, is_loopback
from auth.oidc.needs import (
    ACT_AS_YOU_NEED,
    AccessNeed,
    NeedError,
    is_iri,
    parse_agent,
    parse_needs,
)
from pod.access.documents import LocalDocuments, Unreadable
from pod.store.sealed import SealedTransaction
from pod.store.system import SystemRecords, dump

log = logging.getLogger(__name__)

ID_PREFIX = "app_"
RECORD = "oidc-client:"
CACHE_SECONDS = 300
FAILED_CACHE_SECONDS = 30
CACHE_SIZE = 1000
DEFAULT_GRANTS = ("authorization_code",)
DOCUMENT_TYPES = ("application/ld+json", "application/json")
UNUSED_LIFETIME = 24 * 3600
NEW_INDEX = "oidc-clients:new"
CHUNK = 256
HOUR = 3600


@dataclass(frozen=True)
class ClientInfo:
    """What the provider needs to know of an application."""

    client_id: str
    redirect_uris: tuple[str, ...]
    client_name: str = ""
    grant_types: tuple[str, ...] = DEFAULT_GRANTS
    scope: str | None = None
    auth_method: str = "none"
    secret_sha256: str | None = None
    document: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    needs: tuple[AccessNeed, ...] = ()  # empty: an ordinary Solid app acting as the user
    agent_webid: str | None = None  # the WebID the app uses when it acts as itself
    webhook: str | None = None  # where the app is told of revoked grants

    @property
    def asks(self) -> tuple[AccessNeed, ...]:
        """What the owner is asked to consent to."""
        return self.needs or (ACT_AS_YOU_NEED,)

    def check_secret(self, secret: str) -> bool:
        if self.secret_sha256 is None:
            return False
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return hmac.compare_digest(digest, self.secret_sha256)


def is_document_id(client_id: str) -> bool:
    """Whether ``client_id`` names a Client ID Document (an https URL, or http on loopback)."""
    parts = urlsplit(client_id)
    return bool(parts.hostname) and is_iri(client_id) and (
        parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname)))


def _strings(value: object, name: str) -> list[str]:
    """A JSON-LD value of strings: one string, or a list of at most ten (compaction writes a
    single value without the list)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > 10 or \
            not all(isinstance(v, str) for v in value):
        raise ClientError(f"{name} must be a list of at most 10 strings")
    return value


def from_document(url: str, doc: object) -> ClientInfo:
    """A client from a Client ID Document (Solid-OIDC §5.1): a public client. Its redirect
    URIs, scope and name are checked as a registration's are (unknown scopes are ignored)."""
    if not isinstance(doc, dict) or doc.get("client_id") != url:
        raise ClientError("the Client ID Document's client_id is not its own URL")
    uris = client_metadata.redirect_uris(_strings(doc.get("redirect_uris", []),
                                                  "redirect_uris"))
    grants = _strings(doc.get("grant_types", list(DEFAULT_GRANTS)), "grant_types")
    scope, name = doc.get("scope"), doc.get("client_name")
    needs, webid, hook = app_extensions(doc, url)
    return ClientInfo(url, tuple(uris), "" if name is None else client_metadata.client_name(name),
                      tuple(grants),
                      None if scope is None else client_metadata.scope(scope, known_only=False),
                      "none", None, document=True, needs=needs, agent_webid=webid, webhook=hook)


def app_extensions(metadata: dict[str, Any], client_id: str | None
                   ) -> tuple[tuple[AccessNeed, ...], str | None, str | None]:
    """Access needs, the app's own WebID and its grant webhook (see :mod:`auth.oidc.needs`)."""
    try:
        needs = parse_needs(metadata)
        webid, hook = parse_agent(metadata, client_id)
    except NeedError as error:
        raise ClientError(str(error)) from None
    return needs, webid, hook


async def fetch_client_document(fetcher: Fetcher, url: str) -> object:
    """GET a Client ID Document through the guarded fetcher (no private addresses unless the
    operator allows them, timeouts, size limit). Raises :class:`ClientError`."""
    try:
        fetched = await fetcher.get(url, DOCUMENT_TYPES, max_age=CACHE_SECONDS)
    except FetchError as error:  # the reason may name addresses: for the log only
        log.debug("fetching the Client ID Document %s failed: %s", url, error)
        raise ClientError("the Client ID Document could not be fetched") from None
    try:
        return untrusted_json.loads(fetched.body)
    except untrusted_json.JSONError as error:
        raise ClientError(f"the Client ID Document cannot be read: {error}") from None


async def read_local_document(documents: LocalDocuments, url: str) -> object:
    """A Client ID Document kept in a pod of this server, read from the store as an anonymous
    GET would read it (so it must be public, as it must be for any other server). Raises
    :class:`ClientError` saying why it cannot be used."""
    try:
        doc = await documents.read(url)
    except Unreadable as error:
        raise ClientError(f"the Client ID Document cannot be used: {error} (it must be "
                          "readable by everyone: give it an ACL with acl:agentClass "
                          "foaf:Agent and acl:Read)") from None
    if doc.media_type not in DOCUMENT_TYPES:
        raise ClientError(f"the Client ID Document is {doc.media_type}, not "
                          f"{' or '.join(DOCUMENT_TYPES)}")
    try:
        return untrusted_json.loads(doc.body)
    except untrusted_json.JSONError as error:
        raise ClientError(f"the Client ID Document cannot be read: {error}") from None


class Clients:
    """Find, register and cache clients. Client ID Documents of this server are read from its
    store on every use (an edit applies at once); others are fetched and cached."""

    def __init__(self, system: SystemRecords, fetcher: Fetcher,
                 documents: LocalDocuments | None = None):
        self.system, self.fetcher, self.documents = system, fetcher, documents
        self._documents: dict[str, tuple[float, ClientInfo | None]] = {}
        self.problems: dict[str, str] = {}  # why a client was refused, for people
        self._clock = time.time  # tests may move time

    async def find(self, client_id: str) -> ClientInfo | None:
        """The client named ``client_id``, or ``None`` when there is no usable one."""
        if client_id.startswith(ID_PREFIX):
            data = await self.system.get_json(RECORD + client_id)
            if not data or self._expired(data):
                return None
            try:
                return _from_record(data)
            except ClientError as error:
                self._problem(client_id, f"the app's registration cannot be used: {error}")
                return None
        if not is_document_id(client_id):
            return None
        if self.documents is not None and self.documents.hosts(client_id):
            try:
                return from_document(client_id,
                                     await read_local_document(self.documents, client_id))
            except ClientError as error:
                self._problem(client_id, str(error))
                return None
        now = time.monotonic()
        cached = self._documents.get(client_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            info: ClientInfo | None = from_document(client_id,
                                                    await fetch_client_document(self.fetcher,
                                                                                client_id))
        except ClientError as error:
            info = None
            self._problem(client_id, str(error))
        if len(self._documents) >= CACHE_SIZE:
            self._documents = {k: v for k, v in self._documents.items() if v[0] > now}
            while len(self._documents) >= CACHE_SIZE:
                self._documents.pop(next(iter(self._documents)))
        self._documents[client_id] = (now + (CACHE_SECONDS if info else FAILED_CACHE_SECONDS),
                                      info)
        return info

    def _problem(self, client_id: str, problem: str) -> None:
        if len(self.problems) >= CACHE_SIZE:
            self.problems.clear()
        self.problems[client_id] = problem

    async def save(self, info: ClientInfo, metadata: dict[str, Any]) -> None:
        """Store a registered client with its (validated) RFC 7591 metadata, and delete the
        clients whose time to be used ran out unused."""
        now = self._clock()
        record = {"client_id": info.client_id, "redirect_uris": list(info.redirect_uris),
                  "client_name": info.client_name, "grant_types": list(info.grant_types),
                  "scope": info.scope, "auth_method": info.auth_method,
                  "secret_sha256": info.secret_sha256, "metadata": metadata,
                  "created": int(now), "unused_until": int(now + UNUSED_LIFETIME)}
        async with self.system.write() as tx:
            await tx.put(RECORD + info.client_id, dump(record))
            opened = await tx.get(NEW_INDEX)
            hours: dict[str, list[int]] = json.loads(opened.data) if opened else {}
            await _list_new(tx, hours, info.client_id, now)
            await _sweep(tx, hours, now)
            await tx.put(NEW_INDEX, dump(hours))

    async def used(self, client_id: str) -> None:
        """Note that the registered client ``client_id`` obtained a token: it is kept from now
        on; its last use is written at most once a day."""
        if not client_id.startswith(ID_PREFIX):
            return
        now = int(self._clock())
        data = await self.system.get_json(RECORD + client_id)
        if data is None or now - int(data.get("last_used", 0)) < 24 * HOUR:
            return
        async with self.system.write() as tx:
            opened = await tx.get(RECORD + client_id)
            if opened is None:
                return
            data = json.loads(opened.data)
            data.setdefault("used", now)
            data["last_used"] = now
            await tx.put(RECORD + client_id, dump(data))

    def _expired(self, data: dict[str, Any]) -> bool:
        """A registered client never used before its ``unused_until`` (clients registered
        before that rule have none and are kept)."""
        until = data.get("unused_until")
        return until is not None and "used" not in data and until <= self._clock()


def _new_chunk(hour: str, n: int) -> str:
    return f"{NEW_INDEX}:{hour}:{n}"


async def _list_new(tx: SealedTransaction, hours: dict[str, list[int]], client_id: str,
                    now: float) -> None:
    """Add ``client_id`` to the list of its hour (``hours``: hour → [chunks, last's size])."""
    hour = str(int(now // HOUR))
    chunks, size = hours.get(hour, (0, 0))
    ids: list[str] = []
    if chunks and size < CHUNK:  # top up the last chunk
        opened = await tx.get(_new_chunk(hour, chunks - 1))
        ids = json.loads(opened.data) if opened else []
        chunks -= 1
    ids.append(client_id)
    await tx.put(_new_chunk(hour, chunks), dump(ids))
    hours[hour] = [chunks + 1, len(ids)]


async def _sweep(tx: SealedTransaction, hours: dict[str, list[int]], now: float) -> None:
    """Delete the never-used clients of every hour whose clients' time ran out, and its list."""
    for hour in [h for h in hours if (int(h) + 1) * HOUR + UNUSED_LIFETIME <= now]:
        for n in range(hours.pop(hour)[0]):
            opened = await tx.get(_new_chunk(hour, n))
            for client_id in json.loads(opened.data) if opened else []:
                record = await tx.get(RECORD + client_id)
                if record is not None and "used" not in json.loads(record.data):
                    await tx.delete(RECORD + client_id)
            await tx.delete(_new_chunk(hour, n))


def _from_record(data: dict[str, Any]) -> ClientInfo:
    """A registered client from its record, checked again: a record stored before a check
    existed makes a client that cannot be used (:class:`ClientError`), never a crash."""
    try:
        needs, _, hook = app_extensions(data.get("metadata") or {}, None)
        scope, method, secret = data["scope"], data["auth_method"], data["secret_sha256"]
        if method not in client_metadata.AUTH_METHODS or not isinstance(secret, str | None):
            raise ClientError("its token endpoint authentication is unknown")
        return ClientInfo(
            data["client_id"], tuple(client_metadata.redirect_uris(data["redirect_uris"])),
            client_metadata.client_name(data["client_name"]),
            tuple(client_metadata.grant_types(data["grant_types"])),
            None if scope is None else client_metadata.scope(scope, known_only=False),
            method, secret, needs=needs, webhook=hook)
    except (KeyError, TypeError, AttributeError):
        raise ClientError("its record is incomplete") from None
