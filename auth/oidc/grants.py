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
from authlib.oauth2.rfc7591 import (
    ClientRegistrationEndpoint,
    InvalidClientMetadataError,
    InvalidRedirectURIError,
)
from authlib.oauth2.rfc7636 import CodeChallenge

from auth.oidc.clients import ID_PREFIX, ClientError, ClientInfo, check_redirect_uri
from pod.store.system import dump

SCOPES = ["openid", "webid", "offline_access"]
CODE_RECORD = "oidc-code:"
REFRESH_RECORD = "oidc-refresh:"
CODE_LIFETIME = 60
REFRESH_LIFETIME = 14 * 24 * 3600
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


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


current: ContextVar[Call] = ContextVar("oidc_call")


class AppClient(ClientMixin):
    """A registered client or a Client ID Document, as authlib sees it."""

    def __init__(self, info: ClientInfo):
        self.info = info

    def get_client_id(self) -> str:
        return self.info.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # Solid-OIDC clients always name their redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str:
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
        data = request.payload.data
        current.get().writes.append((CODE_RECORD + digest(code), dump({
            "client_id": request.client.get_client_id(),
            "redirect_uri": request.payload.redirect_uri, "scope": request.scope,
            "webid": request.user, "nonce": data.get("nonce"),
            "code_challenge": data["code_challenge"],
            "code_challenge_method": data["code_challenge_method"],
            "expires": time.time() + CODE_LIFETIME})))

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

    def authenticate_refresh_token(self, refresh_token: str) -> StoredRefresh | None:
        call = current.get()
        found = call.refresh
        if (found is None or found.name != REFRESH_RECORD + digest(refresh_token)
                or found.is_expired() or found.jkt != call.jkt):
            return None
        return found

    def authenticate_user(self, refresh_token: StoredRefresh) -> str:
        return refresh_token.webid

    def revoke_old_credential(self, refresh_token: StoredRefresh) -> None:
        current.get().consume.append((refresh_token.name, refresh_token.version))


def new_refresh_token(call: Call, client_id: str, webid: str, scope: str) -> str:
    """A fresh refresh token bound to the call's DPoP key, queued for storing."""
    token = secrets.token_urlsafe(32)
    call.writes.append((REFRESH_RECORD + digest(token), dump({
        "client_id": client_id, "webid": webid, "scope": scope, "jkt": call.jkt,
        "expires": time.time() + REFRESH_LIFETIME})))
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

    def generate_client_secret(self, request: Any) -> str | None:
        if request.payload.data.get("token_endpoint_auth_method") == "none":
            return None
        return secrets.token_urlsafe(32)

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any],
                    request: Any) -> ClientInfo:
        """Check what authlib's claims do not (redirect URIs, grants) and queue the record."""
        try:
            uris = client_metadata.get("redirect_uris")
            if not isinstance(uris, list) or not uris:
                raise ClientError("redirect_uris is required")
            grants = client_metadata.get("grant_types", ["authorization_code"])
            if not set(grants) <= {"authorization_code", "refresh_token"}:
                raise ClientError("grant_types may be authorization_code and refresh_token")
            info = ClientInfo(
                client_info["client_id"], tuple(check_redirect_uri(u) for u in uris),
                str(client_metadata.get("client_name", "")), tuple(grants),
                client_metadata.get("scope"), client_metadata["token_endpoint_auth_method"],
                digest(client_info["client_secret"]) if client_info["client_secret"] else None)
        except ClientError as error:
            kind = InvalidRedirectURIError if "redirect" in str(error) else \
                InvalidClientMetadataError
            raise kind(str(error)) from None
        current.get().registered = (info, client_metadata)
        return info
