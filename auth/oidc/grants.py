"""authlib grants for the authorization-code flow (RFC 6749 §4.1, RFC 7636, Solid-OIDC §5).

authlib's core is synchronous, so it never touches the store: the route resolves the client,
the stored code or refresh token beforehand and hands them in as a :class:`Call` in a context
variable; what authlib wants stored or consumed is collected there (``writes``, ``consume``)
and committed by the route afterwards, in one transaction that fails if a consumed record
changed meanwhile (so a code or refresh token is good for one use only).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin, TokenMixin
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge

from auth.oidc.client_metadata import AUTH_METHODS, SCOPES
from auth.oidc.clients import DEFAULT_GRANTS, ID_PREFIX, ClientInfo
from pod.store.system import dump

CODE_RECORD = "oidc-code:"
REFRESH_RECORD = "oidc-refresh:"
CODE_LIFETIME = 60
REFRESH_LIFETIME = 14 * 24 * 3600


def digest(secret: str) -> str:
    """Codes and refresh tokens are 256-bit random strings: a SHA-256 names their record."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class Call:
    """One run of authlib's core: what was resolved before, and what to store after."""

    client: ClientMixin | None = None
    jkt: str | None = None
    code: StoredCode | None = None
    refresh: StoredRefresh | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    writes: list[tuple[str, bytes]] = field(default_factory=list)
    consume: list[tuple[str, bytes]] = field(default_factory=list)
    registered: tuple[ClientInfo, dict[str, Any]] | None = None
    #: the local account the tokens or code are for, and the instance of its pod (both set
    #: by the route before authlib runs; tokens and codes are bound to the instance)
    account: str | None = None
    instance: str | None = None


current: ContextVar[Call] = ContextVar("oidc_call")

# types-Authlib annotates some hooks more narrowly than authlib calls and reads them: the
# overrides below that differ say "[override]: authlib ..." with what authlib does at run time.


class AppClient(ClientMixin):
    """A registered client or a Client ID Document, as authlib sees it."""

    def __init__(self, info: ClientInfo):
        self.info = info

    def get_client_id(self) -> str:
        return self.info.client_id

    # [override]: authlib refuses the request when this is falsy (grants/base.py)
    def get_default_redirect_uri(self) -> str | None:  # type: ignore[override]
        return None  # Solid-OIDC clients always name their redirect_uri

    # [override]: authlib passes the request's scope parameter, None when absent
    def get_allowed_scope(self, scope: str | None) -> str:  # type: ignore[override]
        """The asked scopes this server knows and the client declared (RFC 6749 §3.3)."""
        asked = set((scope or "openid webid").split())
        if self.info.scope is not None:
            asked &= set(self.info.scope.split())
        return " ".join(s for s in SCOPES if s in asked)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.info.redirect_uris  # exact match (RFC 9700 §4.1.3)

    def check_client_secret(self, client_secret: str) -> bool:
        return self.info.check_secret(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method == self.info.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.info.grant_types


@dataclass
class StoredCode(AuthorizationCodeMixin):
    """An authorization code's record: bound to client, redirect URI, PKCE challenge, WebID."""

    name: str
    version: bytes
    client_id: str
    redirect_uri: str
    scope: str
    webid: str
    nonce: str | None
    code_challenge: str
    code_challenge_method: str
    expires: float
    instance: str = ""  # of the account's pod when the code was issued

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class StoredRefresh(TokenMixin):
    """A refresh token's record: bound to the client and to the DPoP key (RFC 9449 §5)."""

    name: str
    version: bytes
    client_id: str
    webid: str
    scope: str
    jkt: str
    expires: float
    instance: str = ""  # of the account's pod when the refresh token was issued

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires - time.time()))

    def is_expired(self) -> bool:
        return self.expires <= time.time()

    def is_revoked(self) -> bool:
        return False


class S256Challenge(CodeChallenge):
    """PKCE (RFC 7636) with S256 only, required on every authorization request (Solid-OIDC
    §5, RFC 9700 §2.1.1) — refused at the authorization endpoint already."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - authlib's class attribute
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE 'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):
    """The authorization-code grant over our stored, hashed, one-use codes."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        # authlib saves a code for a validated request: its payload and client are set
        assert request.payload is not None and request.client is not None
        data = request.payload.data
        current.get().writes.append((CODE_RECORD + digest(code), dump({
            "client_id": request.client.get_client_id(),
            "redirect_uri": request.payload.redirect_uri, "scope": request.scope,
            "webid": request.user, "nonce": data.get("nonce"),
            "code_challenge": data["code_challenge"],
            "code_challenge_method": data["code_challenge_method"],
            "instance": current.get().instance, "expires": time.time() + CODE_LIFETIME})))

    def query_authorization_code(self, code: str, client: ClientMixin) -> StoredCode | None:
        found = current.get().code
        if (found is None or found.name != CODE_RECORD + digest(code)
                or found.client_id != client.get_client_id() or found.expires <= time.time()):
            return None
        return found

    def delete_authorization_code(self, authorization_code: StoredCode) -> None:
        current.get().consume.append((authorization_code.name, authorization_code.version))

    def authenticate_user(self, authorization_code: StoredCode) -> str:
        return authorization_code.webid


class RotatingRefreshGrant(RefreshTokenGrant):
    """Refresh tokens, rotated on every use (RFC 9700 §4.14.2) and DPoP-bound."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    # [override]: authlib refuses the grant when this is None (grants/refresh_token.py)
    def authenticate_refresh_token(  # type: ignore[override]
            self, refresh_token: str) -> StoredRefresh | None:
        call = current.get()
        found = call.refresh
        if (found is None or found.name != REFRESH_RECORD + digest(refresh_token)
                or found.is_expired() or found.jkt != call.jkt):
            return None
        return found

    def authenticate_user(self, refresh_token: StoredRefresh) -> str:
        return refresh_token.webid

    # [override]: authlib passes what authenticate_refresh_token returned
    def revoke_old_credential(self, refresh_token: StoredRefresh) -> None:  # type: ignore[override]
        current.get().consume.append((refresh_token.name, refresh_token.version))


def new_refresh_token(call: Call, client_id: str, webid: str, scope: str) -> str:
    """A fresh refresh token bound to the call's DPoP key, queued for storing."""
    token = secrets.token_urlsafe(32)
    call.writes.append((REFRESH_RECORD + digest(token), dump({
        "client_id": client_id, "webid": webid, "scope": scope, "jkt": call.jkt,
        "instance": call.instance, "expires": time.time() + REFRESH_LIFETIME})))
    return token


class Registration(ClientRegistrationEndpoint):
    """Open dynamic client registration (RFC 7591 §3): public or confidential clients."""

    def authenticate_token(self, request: Any) -> bool:
        return True  # open registration: no initial access token (RFC 7591 §3)

    def get_server_metadata(self) -> dict[str, Any]:
        return current.get().metadata

    def resolve_public_key(self, request: Any) -> None:
        return None  # software statements are not accepted

    def generate_client_id(self, request: Any) -> str:
        return ID_PREFIX + secrets.token_urlsafe(18)

    # [override]: authlib stores what this returns as is; None makes a public client
    def generate_client_secret(self, request: Any) -> str | None:  # type: ignore[override]
        if request.payload.data.get("token_endpoint_auth_method") == "none":
            return None
        return secrets.token_urlsafe(32)

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any],
                    request: Any) -> ClientInfo:
        """Queue the record of a client whose metadata the route has checked already
        (:func:`auth.oidc.client_metadata.registration`)."""
        secret = client_info["client_secret"]
        info = ClientInfo(
            client_info["client_id"], tuple(client_metadata["redirect_uris"]),
            client_metadata.get("client_name", ""),
            tuple(client_metadata.get("grant_types", DEFAULT_GRANTS)),
            client_metadata.get("scope"), client_metadata["token_endpoint_auth_method"],
            digest(secret) if secret else None)
        current.get().registered = (info, client_metadata)
        return info
