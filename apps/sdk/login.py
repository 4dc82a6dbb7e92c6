"""Signing in: DPoP-bound tokens from a Solid-OIDC issuer (Solid-OIDC §8, RFC 9449 §5).

- :func:`client_credentials` — a program acting as a WebID with a client credential
  (RFC 6749 §4.4; ``commonpod credentials create``).
- :class:`CodeFlow` — an interactive app: an authorization URL with PKCE (RFC 7636, S256),
  ``state`` and ``nonce``; the browser comes back to the redirect URI and
  :meth:`CodeFlow.finish` checks it (RFC 9207 ``iss``), exchanges the code and verifies the ID
  token (OpenID Connect Core §3.1.3.7) against the issuer's JWKS.
- :class:`Session` — the result: the DPoP key, the access token, and how to get the next one
  (the refresh token, rotated on each use, or the client credential again), renewed before it
  expires.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from apps.sdk.discovery import IssuerConfiguration, configuration_url, issuer_configuration
from apps.sdk.dpop import DPoPKey
from apps.sdk.errors import InvalidResponse, LoginError, TransportError, oauth_error

#: renew a token when it has less than this many seconds left (or a fifth of its life)
RENEW_BEFORE = 60.0
TIMEOUT = 20.0


async def _send(http: httpx.AsyncClient | None, method: str, url: str,
                **kwargs: Any) -> httpx.Response:
    try:
        if http is not None:
            return await http.request(method, url, **kwargs)
        async with httpx.AsyncClient(timeout=TIMEOUT) as own:
            return await own.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise TransportError(f"{method} {url} failed: {type(exc).__name__}: {exc}",
                             url) from None


async def discover_issuer(issuer: str, http: httpx.AsyncClient | None = None
                          ) -> IssuerConfiguration:
    """An issuer's OpenID configuration (OpenID Connect Discovery 1.0 §4)."""
    url = configuration_url(issuer)
    r = await _send(http, "GET", url, headers={"Accept": "application/json"})
    if r.status_code != 200:
        raise InvalidResponse(f"GET {url} answered {r.status_code}")
    try:
        document = r.json()
    except ValueError:
        raise InvalidResponse(f"{url} is not JSON") from None
    return issuer_configuration(issuer, document)


def _claims(token: str) -> dict[str, Any]:
    """A JWT's claims, unverified — only to learn what the issuer put in our own token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def _basic(client_id: str, client_secret: str) -> str:
    """HTTP Basic credentials for a client, form-encoded first (RFC 6749 §2.3.1)."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


@dataclass
class Session:
    """A signed-in agent: the DPoP key, the current access token and how to renew it.

    ``webid`` and ``client_id`` say who the token is for and which client holds it. Renewal
    happens by itself before a request when the token has less than ``renew_before`` seconds
    left: with the refresh token if there is one (each use returns a new one, RFC 6749 §6), or
    with the client credential again."""

    issuer: IssuerConfiguration
    key: DPoPKey = field(repr=False)
    access_token: str = field(repr=False)
    expires_at: float = 0.0
    webid: str | None = None
    client_id: str | None = None
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    scope: str = ""
    renew_before: float = RENEW_BEFORE
    _secret: str | None = field(default=None, repr=False)
    _lock: asyncio.Lock | None = field(default=None, repr=False, compare=False)

    @property
    def expires_in(self) -> float:
        """Seconds the access token has left."""
        return self.expires_at - time.time()

    def headers(self, method: str, url: str) -> dict[str, str]:
        """``Authorization`` and a fresh ``DPoP`` proof for one request (RFC 9449 §7.1)."""
        return {"Authorization": f"DPoP {self.access_token}",
                "DPoP": self.key.proof(method, url, self.access_token)}

    async def authorize(self, method: str, url: str,
                        http: httpx.AsyncClient | None = None) -> dict[str, str]:
        """:meth:`headers`, after renewing the token if it is about to expire."""
        if self.expires_in < self.renew_before:
            await self.renew(http, only_if_due=True)
        return self.headers(method, url)

    async def renew(self, http: httpx.AsyncClient | None = None, *,
                    only_if_due: bool = False) -> None:
        """Get a new access token now (one renewal at a time; concurrent callers wait)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if only_if_due and self.expires_in >= self.renew_before:
                return  # another caller renewed it meanwhile
            if self.refresh_token is not None:
                form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
                if self._secret is None and self.client_id:
                    form["client_id"] = self.client_id
                got = await _token(self.issuer, self.key, form, http, self.client_id,
                                   self._secret)
            elif self._secret is not None and self.client_id:
                got = await _token(self.issuer, self.key,
                                   {"grant_type": "client_credentials", "scope": self.scope},
                                   http, self.client_id, self._secret)
            else:
                raise LoginError("this session cannot be renewed: it has no refresh token "
                                 "(ask for offline_access) and no client credential")
            self._take(got)

    def _take(self, got: dict[str, Any]) -> None:
        self.access_token = got["access_token"]
        self.expires_at = time.time() + _lifetime(got)
        self.refresh_token = got.get("refresh_token", self.refresh_token)
        self.id_token = got.get("id_token", self.id_token)
        self.scope = got.get("scope", self.scope) or self.scope


def _lifetime(got: dict[str, Any]) -> float:
    value = got.get("expires_in")
    return float(value) if isinstance(value, int | float) and value > 0 else 300.0


async def _token(issuer: IssuerConfiguration, key: DPoPKey, form: dict[str, str],
                 http: httpx.AsyncClient | None, client_id: str | None = None,
                 secret: str | None = None) -> dict[str, Any]:
    """A DPoP-bound token from the token endpoint (RFC 9449 §5)."""
    url = issuer.token_endpoint
    headers = {"DPoP": key.proof("POST", url), "Accept": "application/json"}
    if secret is not None and client_id is not None:
        headers["Authorization"] = _basic(client_id, secret)
    r = await _send(http, "POST", url, data=form, headers=headers)
    if r.status_code != 200:
        raise oauth_error(r)
    try:
        got = r.json()
    except ValueError:
        raise InvalidResponse(f"the token endpoint {url} answered no JSON") from None
    if not isinstance(got, dict) or not isinstance(got.get("access_token"), str):
        raise InvalidResponse(f"the token endpoint {url} answered no access token")
    if str(got.get("token_type", "")).lower() != "dpop":
        raise InvalidResponse(f"the token endpoint {url} answered a {got.get('token_type')!r} "
                              "token, not a DPoP-bound one")
    return got


async def client_credentials(issuer: str, client_id: str, client_secret: str, *,
                             scope: str = "webid", key: DPoPKey | None = None,
                             http: httpx.AsyncClient | None = None,
                             renew_before: float = RENEW_BEFORE) -> Session:
    """Sign in as the WebID a client credential acts for (RFC 6749 §4.4 with DPoP):
    ``commonpod credentials create NAME`` prints ``client_id``, ``client_secret`` and the
    ``issuer``. Raises :class:`~apps.sdk.errors.OAuthError` (``invalid_client``) for a wrong
    or revoked credential."""
    config = await discover_issuer(issuer, http)
    key = key or DPoPKey()
    got = await _token(config, key, {"grant_type": "client_credentials", "scope": scope}, http,
                       client_id, client_secret)
    session = Session(config, key, got["access_token"], time.time() + _lifetime(got),
                      webid=_claims(got["access_token"]).get("webid"), client_id=client_id,
                      scope=scope, renew_before=renew_before, _secret=client_secret)
    session._take(got)
    return session


async def register_client(issuer: str, metadata: dict[str, Any], *,
                          http: httpx.AsyncClient | None = None) -> dict[str, Any]:
    """Dynamic client registration (RFC 7591 §3): the registered metadata with its
    ``client_id`` (and a ``client_secret`` for a confidential client, shown once). Prefer a
    Client ID Document (:mod:`apps.sdk.consent`), which needs no registration."""
    config = await discover_issuer(issuer, http)
    if config.registration_endpoint is None:
        raise InvalidResponse(f"{issuer} offers no dynamic client registration")
    r = await _send(http, "POST", config.registration_endpoint, json=metadata)
    if r.status_code != 201:
        raise oauth_error(r)
    registered: dict[str, Any] = r.json()
    return registered


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class CodeFlow:
    """One sign-in through the browser (the authorization-code flow with PKCE and DPoP).

    Make one with :meth:`start`, send the browser to :attr:`url`, and give the URL the
    browser came back with to :meth:`finish`. Keep the flow meanwhile — it holds the PKCE
    verifier, ``state`` and ``nonce``; it is a plain dataclass of strings, so
    ``dataclasses.asdict(flow)`` and ``CodeFlow(**saved)`` carry it across processes.
    """

    issuer: str
    client_id: str
    redirect_uri: str
    url: str
    state: str
    nonce: str
    verifier: str = field(repr=False)
    scope: str = "openid webid offline_access"
    client_secret: str | None = field(default=None, repr=False)

    @classmethod
    async def start(cls, issuer: str, client_id: str, redirect_uri: str, *,
                    scope: str = "openid webid offline_access",
                    client_secret: str | None = None, http: httpx.AsyncClient | None = None,
                    **params: str) -> CodeFlow:
        """A new sign-in at ``issuer`` for the client ``client_id`` (a Client ID Document
        URL, or a registered client), coming back to ``redirect_uri``. ``params`` go into the
        authorization URL too (e.g. ``prompt``)."""
        config = await discover_issuer(issuer, http)
        if config.authorization_endpoint is None:
            raise InvalidResponse(f"{issuer} names no authorization endpoint")
        verifier, challenge = _pkce()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
                 "scope": scope, "state": state, "nonce": nonce, "code_challenge": challenge,
                 "code_challenge_method": "S256", **params}
        sep = "&" if "?" in config.authorization_endpoint else "?"
        return cls(issuer, client_id, redirect_uri,
                   config.authorization_endpoint + sep + urlencode(query), state, nonce,
                   verifier, scope, client_secret)

    def _callback(self, callback_url: str) -> str:
        """The code in the URL the browser came back with, after checking it (RFC 6749
        §4.1.2, RFC 9207 §2.4)."""
        back, expected = urlsplit(callback_url), urlsplit(self.redirect_uri)
        if (back.scheme, back.netloc, back.path) != (expected.scheme, expected.netloc,
                                                     expected.path):
            raise LoginError("the callback is not at this flow's redirect URI")
        got = {k: v[0] for k, v in parse_qs(urlsplit(callback_url).query).items()}
        if not secrets.compare_digest(got.get("state", ""), self.state):
            raise LoginError("the callback's state is not this flow's: refusing it "
                             "(RFC 6749 §10.12)")
        if "iss" in got and got["iss"] != self.issuer:
            raise LoginError(f"the callback comes from the issuer {got['iss']!r}, not "
                             f"{self.issuer!r} (RFC 9207)")
        if "error" in got:
            text = got.get("error_description", "")
            raise LoginError(f"the sign-in was not completed: {got['error']}"
                             + (f" ({text})" if text else ""))
        if "code" not in got:
            raise LoginError("the callback carries no code")
        return got["code"]

    async def finish(self, callback_url: str, *, key: DPoPKey | None = None,
                     http: httpx.AsyncClient | None = None,
                     renew_before: float = RENEW_BEFORE) -> Session:
        """Exchange the code in ``callback_url`` for a DPoP-bound session (RFC 6749 §4.1.3,
        RFC 7636 §4.5), verifying the ID token when ``openid`` was asked for."""
        code = self._callback(callback_url)
        config = await discover_issuer(self.issuer, http)
        key = key or DPoPKey()
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri, "code_verifier": self.verifier}
        if self.client_secret is None:
            form["client_id"] = self.client_id
        got = await _token(config, key, form, http, self.client_id, self.client_secret)
        webid = _claims(got["access_token"]).get("webid")
        if "openid" in self.scope.split():
            if not isinstance(got.get("id_token"), str):
                raise LoginError("the issuer answered no ID token although openid was asked")
            claims = await verify_id_token(config, got["id_token"], self.client_id,
                                           self.nonce, http)
            webid = claims.get("webid") or claims.get("sub")
        session = Session(config, key, got["access_token"], time.time() + _lifetime(got),
                          webid=webid, client_id=self.client_id, scope=self.scope,
                          renew_before=renew_before, _secret=self.client_secret)
        session._take(got)
        return session


async def jwks(config: IssuerConfiguration, http: httpx.AsyncClient | None = None) -> KeySet:
    """The issuer's signing keys (its ``jwks_uri``)."""
    r = await _send(http, "GET", config.jwks_uri, headers={"Accept": "application/json"})
    if r.status_code != 200:
        raise InvalidResponse(f"GET {config.jwks_uri} answered {r.status_code}")
    try:
        return KeySet.import_key_set(r.json())
    except (ValueError, JoseError) as exc:
        raise InvalidResponse(f"{config.jwks_uri} is not a JWK set: {exc}") from None


async def verify_id_token(config: IssuerConfiguration, token: str, client_id: str, nonce: str,
                          http: httpx.AsyncClient | None = None) -> dict[str, Any]:
    """The claims of an ID token after checking its signature against the issuer's keys, and
    ``iss``, ``aud``, ``exp`` and ``nonce`` (OpenID Connect Core §3.1.3.7)."""
    keys = await jwks(config, http)
    try:
        decoded = jwt.decode(token, keys, algorithms=["ES256", "ES384", "RS256", "PS256",
                                                      "EdDSA"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": config.issuer},
                              aud={"essential": True, "value": client_id},
                              nonce={"essential": True, "value": nonce},
                              exp={"essential": True}).validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise LoginError(f"the ID token does not verify: {exc}") from None
    return dict(decoded.claims)
