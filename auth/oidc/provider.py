"""The Solid-OIDC identity provider's OAuth 2.0 core, on authlib.

authlib brings the grant logic (RFC 6749) but no Starlette integration and no DPoP. The glue:
the HTTP route reads the form and resolves the client asynchronously *before* authlib runs, so
authlib's synchronous core (``query_client``, the grant, the token generator) never touches
the store; the DPoP proof's key thumbprint reaches the token generator through a context
variable, and every access token is bound to it (RFC 9449 §5, Solid-OIDC §9).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Request
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from auth.credentials import Credential
from auth.oidc.tokens import AccessTokens

SCOPES = ["openid", "webid", "offline_access"]
_binding: ContextVar[tuple[str, dict[str, Any]]] = ContextVar("dpop_binding")


class CredentialClient(ClientMixin):
    """A client credential as authlib sees a confidential client."""

    def __init__(self, credential: Credential):
        self.credential = credential

    def get_client_id(self) -> str:
        return self.credential.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        asked = set((scope or "webid").split())
        return " ".join(s for s in SCOPES if s in asked and s != "offline_access") or "webid"

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return self.credential.check_secret(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class Provider(AuthorizationServer):
    """authlib's authorization server, wired to our clients and DPoP-bound JWT tokens."""

    def __init__(self, tokens: AccessTokens):
        super().__init__(scopes_supported=SCOPES)
        self.tokens = tokens
        self.register_grant(ClientCredentialsGrant)
        self.register_token_generator("default", self._generate)

    def token_response(self, request: OAuth2Request, client: CredentialClient | None,
                       jkt: str) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """Run the token endpoint for a request whose client was looked up beforehand."""
        reset = _binding.set((jkt, {"client": client}))
        try:
            return self.create_token_response(request)
        finally:
            _binding.reset(reset)

    # --- authlib's hooks -------------------------------------------------------------------

    def query_client(self, client_id: str) -> CredentialClient | None:
        client = _binding.get()[1]["client"]
        return client if client is not None and client.get_client_id() == client_id else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """JWT access tokens are self-contained: nothing to store."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal listeners."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def _generate(self, grant_type: str, client: CredentialClient, user: Any = None,
                  scope: str | None = None, expires_in: int | None = None,
                  include_refresh_token: bool = True) -> dict[str, Any]:
        jkt = _binding.get()[0]
        cred = client.credential
        token, lifetime = self.tokens.mint(webid=cred.webid, client_id=cred.client_id, jkt=jkt,
                                           scope=scope or "webid")
        return {"access_token": token, "token_type": "DPoP", "expires_in": lifetime,
                "scope": scope or "webid"}


def oauth2_request(method: str, url: str, headers: Mapping[str, str],
                   form: dict[str, str]) -> OAuth2Request:
    """An authlib request from what the route has already read (``headers`` must look names
    up case-insensitively, as authlib asks for ``Authorization``)."""
    request = OAuth2Request(method, url, headers=headers)
    request.payload = BasicOAuth2Payload(form)
    return request
