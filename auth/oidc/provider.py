"""The Solid-OIDC identity provider's OAuth 2.0 core, on authlib.

authlib brings the grant logic (RFC 6749, RFC 7636, RFC 7591) but no Starlette integration and
no DPoP. The glue: the HTTP route reads the request and resolves the client, code or refresh
token asynchronously *before* authlib runs, so authlib's synchronous core (``query_client``,
the grants, the token generator) never touches the store; they meet through
:data:`auth.oidc.grants.current`, which also collects what is to be stored afterwards. The DPoP
proof's key thumbprint binds every access and refresh token (RFC 9449 §5, Solid-OIDC §9).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidGrantError,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload, JsonPayload, JsonRequest

from auth.credentials import Credential
from auth.oidc import grants
from auth.oidc.client_metadata import SCOPES
from auth.oidc.grants import Call
from auth.oidc.tokens import AccessTokens


class CredentialClient(ClientMixin):
    """A client credential as authlib sees a confidential client."""

    def __init__(self, credential: Credential):
        self.credential = credential

    def get_client_id(self) -> str:
        return self.credential.client_id

    # [override] on these two: as on auth.oidc.grants.AppClient's
    def get_default_redirect_uri(self) -> str | None:  # type: ignore[override]
        return None

    def get_allowed_scope(self, scope: str | None) -> str:  # type: ignore[override]
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
        self.register_grant(grants.CodeGrant, [grants.S256Challenge(required=True)])
        self.register_grant(grants.RotatingRefreshGrant)
        # authlib takes any endpoint class with an ENDPOINT_NAME (its own RFC 7591 endpoint
        # is no Endpoint subclass) and any token generator function, as its docs show
        self.register_endpoint(grants.Registration)  # type: ignore[arg-type]
        self.register_token_generator("default", self._generate)  # type: ignore[arg-type]

    def run(self, call: Call, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one of authlib's entry points with ``call`` as its context."""
        reset = grants.current.set(call)
        try:
            return method(*args, **kwargs)
        finally:
            grants.current.reset(reset)

    def token_response(self, request: OAuth2Request, client: ClientMixin | None,
                       jkt: str, call: Call | None = None
                       ) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        """Run the token endpoint for a request whose client was looked up beforehand."""
        call = call or Call()
        call.client, call.jkt = client, jkt
        response: tuple[int, dict[str, Any], list[tuple[str, str]]] = self.run(
            call, self.create_token_response, request)
        return response

    # --- authlib's hooks -------------------------------------------------------------------

    # [override]: authlib refuses the client when this is None (authenticate_client.py)
    def query_client(self, client_id: str) -> ClientMixin | None:  # type: ignore[override]
        client = grants.current.get().client
        return client if client is not None and client.get_client_id() == client_id else None

    def validate_requested_scope(self, scope: str | None) -> None:
        """Unknown scopes are ignored rather than refused (RFC 6749 §3.3); the client's
        ``get_allowed_scope`` keeps the ones this server knows."""

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """JWT access tokens are self-contained; refresh tokens are queued by the generator."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal listeners."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def create_json_request(self, request: JsonRequest) -> JsonRequest:
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def _generate(self, grant_type: str, client: ClientMixin, user: Any = None,
                  scope: str | None = None, expires_in: int | None = None,
                  include_refresh_token: bool = True) -> dict[str, Any]:
        call = grants.current.get()
        jkt = str(call.jkt)
        if call.instance is None:  # the route found no live account it was issued to
            raise InvalidGrantError("the account this was issued to no longer exists")
        if isinstance(client, CredentialClient):
            cred = client.credential
            token, lifetime = self.tokens.mint(webid=cred.webid, client_id=cred.client_id,
                                               jkt=jkt, account=call.instance,
                                               scope=scope or "webid")
            return {"access_token": token, "token_type": "DPoP", "expires_in": lifetime,
                    "scope": scope or "webid"}
        webid, client_id, scope = str(user), client.get_client_id(), scope or ""
        token, lifetime = self.tokens.mint(webid=webid, client_id=client_id, jkt=jkt,
                                           account=call.instance, scope=scope)
        body: dict[str, Any] = {"access_token": token, "token_type": "DPoP",
                                "expires_in": lifetime, "scope": scope}
        scopes = scope.split()
        if "openid" in scopes:  # OIDC Core §3.1.3.3; the nonce only on the first (§12.2)
            nonce = call.code.nonce if call.code and grant_type == "authorization_code" else None
            body["id_token"] = self.tokens.sign_id_token(webid=webid, client_id=client_id,
                                                         nonce=nonce)
        if (include_refresh_token and "offline_access" in scopes
                and client.check_grant_type("refresh_token")):
            body["refresh_token"] = grants.new_refresh_token(call, client_id, webid, scope)
        return body


class RegistrationRequest(JsonRequest):
    """A registration request whose JSON body the route has already read."""

    def __init__(self, url: str, headers: Mapping[str, str], data: dict[str, Any]):
        super().__init__("POST", url, headers)
        self.payload = _JsonPayload(data)


class _JsonPayload(JsonPayload):
    def __init__(self, data: dict[str, Any]):
        self._data = data

    @property
    def data(self) -> dict[str, Any]:
        return self._data


class _ReadRequest(OAuth2Request):
    """An authlib request whose parameters were read already (``form`` is what some of
    authlib's client authentication and grants read)."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str],
                 params: dict[str, str]):
        super().__init__(method, url, headers=headers)
        self.payload = BasicOAuth2Payload(params)
        self._params = params

    @property
    def form(self) -> dict[str, str]:
        return self._params

    @property  # [override]: every parameter read is a str, none is None
    def args(self) -> dict[str, str]:  # type: ignore[override]
        return self._params if self.method == "GET" else {}


def oauth2_request(method: str, url: str, headers: Mapping[str, str],
                   form: dict[str, str]) -> OAuth2Request:
    """An authlib request from what the route has already read (``headers`` must look names
    up case-insensitively, as authlib asks for ``Authorization``)."""
    return _ReadRequest(method, url, headers, form)
