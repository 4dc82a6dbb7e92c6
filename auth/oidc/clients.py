"""The applications that may ask for tokens through the authorization-code flow.

Two kinds (Solid-OIDC §5):

- **Registered clients** (RFC 7591 dynamic registration): sealed system records
  ``oidc-client:{client_id}``; a confidential client's secret is kept as a SHA-256 only.
- **Client ID Documents** (Solid-OIDC §5.1): the ``client_id`` is an https URL (http on
  loopback) that dereferences to a JSON-LD document whose own ``client_id`` is that URL.
  Fetched through the guarded fetcher (:mod:`auth.fetch`) and cached for a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from auth.fetch import Fetcher, FetchError
from auth.oidc.needs import (
    ACT_AS_YOU_NEED,
    AccessNeed,
    NeedError,
    is_iri,
    parse_agent,
    parse_needs,
)
from pod.store.system import SystemRecords, dump

ID_PREFIX = "app_"
RECORD = "oidc-client:"
CACHE_SECONDS = 300
FAILED_CACHE_SECONDS = 30
CACHE_SIZE = 1000
DEFAULT_GRANTS = ("authorization_code",)
DOCUMENT_TYPES = ("application/ld+json", "application/json")


class ClientError(ValueError):
    """Client metadata or a Client ID Document that cannot be used."""


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


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def check_redirect_uri(uri: object) -> str:
    """A redirect URI must be absolute https, or http on loopback, without a fragment
    (RFC 6749 §3.1.2, RFC 8252 §7.3)."""
    if not isinstance(uri, str) or len(uri) > 2048:
        raise ClientError("redirect_uris must be URL strings")
    parts = urlsplit(uri)
    if parts.fragment or not parts.hostname:
        raise ClientError(f"redirect URI {uri!r} must be absolute and without a fragment")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname)):
        raise ClientError(f"redirect URI {uri!r} must be https (or http on loopback)")
    return uri


def is_document_id(client_id: str) -> bool:
    """Whether ``client_id`` names a Client ID Document (an https URL, or http on loopback)."""
    parts = urlsplit(client_id)
    return bool(parts.hostname) and is_iri(client_id) and (
        parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname)))


def _strings(value: object, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ClientError(f"{name} must be a list of strings")
    return tuple(value)


def from_document(url: str, doc: object) -> ClientInfo:
    """A client from a Client ID Document (Solid-OIDC §5.1): a public client."""
    if not isinstance(doc, dict) or doc.get("client_id") != url:
        raise ClientError("the Client ID Document's client_id is not its own URL")
    uris = tuple(check_redirect_uri(u) for u in _strings(doc.get("redirect_uris"),
                                                          "redirect_uris"))
    if not uris:
        raise ClientError("the Client ID Document lists no redirect_uris")
    grants = _strings(doc.get("grant_types", list(DEFAULT_GRANTS)), "grant_types")
    scope = doc.get("scope")
    name = doc.get("client_name")
    needs, webid, hook = app_extensions(doc, url)
    return ClientInfo(url, uris, name if isinstance(name, str) else "", grants,
                      scope if isinstance(scope, str) else None, "none", None, document=True,
                      needs=needs, agent_webid=webid, webhook=hook)


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
    except FetchError as error:
        raise ClientError(f"the Client ID Document could not be fetched: {error}") from None
    try:
        return json.loads(fetched.body)
    except ValueError:
        raise ClientError("the Client ID Document is not JSON") from None


class Clients:
    """Find, register and cache clients."""

    def __init__(self, system: SystemRecords, fetcher: Fetcher):
        self.system, self.fetcher = system, fetcher
        self._documents: dict[str, tuple[float, ClientInfo | None]] = {}
        self.problems: dict[str, str] = {}  # why a Client ID Document was refused, for people

    async def find(self, client_id: str) -> ClientInfo | None:
        """The client named ``client_id``, or ``None`` when there is no usable one."""
        if client_id.startswith(ID_PREFIX):
            data = await self.system.get_json(RECORD + client_id)
            return _from_record(data) if data else None
        if not is_document_id(client_id):
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
            if len(self.problems) >= CACHE_SIZE:
                self.problems.clear()
            self.problems[client_id] = str(error)
        if len(self._documents) >= CACHE_SIZE:
            self._documents = {k: v for k, v in self._documents.items() if v[0] > now}
            while len(self._documents) >= CACHE_SIZE:
                self._documents.pop(next(iter(self._documents)))
        self._documents[client_id] = (now + (CACHE_SECONDS if info else FAILED_CACHE_SECONDS),
                                      info)
        return info

    async def save(self, info: ClientInfo, metadata: dict[str, Any]) -> None:
        """Store a registered client with its (validated) RFC 7591 metadata."""
        record = {"client_id": info.client_id, "redirect_uris": list(info.redirect_uris),
                  "client_name": info.client_name, "grant_types": list(info.grant_types),
                  "scope": info.scope, "auth_method": info.auth_method,
                  "secret_sha256": info.secret_sha256, "metadata": metadata,
                  "created": int(time.time())}
        async with self.system.write() as tx:
            await tx.put(RECORD + info.client_id, dump(record))


def _from_record(data: dict[str, Any]) -> ClientInfo:
    needs, _, hook = app_extensions(data.get("metadata") or {}, None)
    return ClientInfo(data["client_id"], tuple(data["redirect_uris"]), data["client_name"],
                      tuple(data["grant_types"]), data["scope"], data["auth_method"],
                      data["secret_sha256"], needs=needs, webhook=hook)
