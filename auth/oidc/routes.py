"""The identity provider's HTTP endpoints: discovery, JWKS, the token endpoint and dynamic
client registration (the authorization endpoint is in :mod:`auth.oidc.authorize`)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import ClientMixin
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from auth.identity import Identity
from auth.oidc import authorize
from auth.oidc.authorize import AUTH_PATH, app_client, clients
from auth.oidc.clients import ClientError, app_extensions
from auth.oidc.dpop import verify_proof
from auth.oidc.grants import AUTH_METHODS, SCOPES, Call
from auth.oidc.provider import CredentialClient, RegistrationRequest, oauth2_request
from auth.oidc.records import commit, load_code, load_refresh
from auth.oidc.tokens import ALG
from pod.errors import BadRequest, Unauthenticated

router = APIRouter()
router.include_router(authorize.router)
TOKEN_PATH = ".oidc/token"  # noqa: S105 - a path, not a secret
JWKS_PATH = ".oidc/jwks"
REG_PATH = ".oidc/reg"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CORS = {"Access-Control-Allow-Origin": "*"}
MAX_REGISTRATION = 16 * 1024


def _identity(request: Request) -> Identity:
    return request.app.state.identity


def metadata(issuer: str) -> dict[str, Any]:
    """OpenID Provider metadata (OIDC Discovery §3, RFC 8414 §2) with Solid-OIDC's (§5)."""
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTH_PATH,
        "token_endpoint": issuer + TOKEN_PATH,
        "registration_endpoint": issuer + REG_PATH,
        "jwks_uri": issuer + JWKS_PATH,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "scopes_supported": SCOPES,
        "claims_supported": ["sub", "webid", "iss", "aud", "azp", "client_id", "nonce"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALG],
        "dpop_signing_alg_values_supported": ["ES256", "ES384", "PS256", "RS256", "EdDSA"],
        "authorization_response_iss_parameter_supported": True,
        "solid_oidc_supported": "https://solidproject.org/TR/solid-oidc",
    }


@router.get("/.well-known/openid-configuration", include_in_schema=False)
async def discovery(request: Request) -> JSONResponse:
    return JSONResponse(metadata(_identity(request).issuer), headers=CORS)


@router.get("/" + JWKS_PATH, include_in_schema=False)
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(_identity(request).keys.jwks(),
                        headers={"Access-Control-Allow-Origin": "*"})


def _client_id(headers: dict[str, str], form: dict[str, str]) -> str | None:
    """The client id from HTTP Basic (RFC 6749 §2.3.1, form-urlencoded parts) or the form."""
    auth = headers.get("authorization", "")
    if auth[:6].lower() == "basic ":
        try:
            user = base64.b64decode(auth[6:].strip(), validate=True).decode().split(":", 1)[0]
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest("malformed HTTP Basic credentials") from None
        return unquote(user.replace("+", " "))
    return form.get("client_id")


@router.post("/" + TOKEN_PATH, include_in_schema=False)
async def token(request: Request) -> JSONResponse:
    """The token endpoint: every token it issues is bound to the caller's DPoP key."""
    identity = _identity(request)
    url = identity.issuer + TOKEN_PATH
    form = {k: str(v) for k, v in (await request.form()).items()}
    headers = {k.lower(): v for k, v in request.headers.items()}
    proof_header = headers.get("dpop")
    if not proof_header:
        return _error(400, "invalid_dpop_proof", "a DPoP proof is required (RFC 9449)")
    try:
        proof = verify_proof(proof_header, method="POST", url=url, replay=identity.replay)
    except Unauthenticated as exc:
        return _error(400, "invalid_dpop_proof", exc.detail)
    client_id = _client_id(headers, form)
    client: ClientMixin | None = None
    if client_id:
        credential = await identity.credentials.find(client_id)
        client = CredentialClient(credential) if credential else await app_client(request,
                                                                                   client_id)
    system = request.app.state.runtime.system
    call = Call()
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code" and form.get("code"):
        call.code = await load_code(system, form["code"])
    elif grant_type == "refresh_token" and form.get("refresh_token"):
        call.refresh = await load_refresh(system, form["refresh_token"])
    status, body, extra = identity.provider.token_response(
        oauth2_request("POST", url, request.headers, form), client, proof.jkt, call)
    if status == 200 and not await commit(system, call):
        return _error(400, "invalid_grant", "the code or refresh token was already used")
    return JSONResponse(body, status_code=status,
                        headers={**dict(extra or []), **NO_STORE, **CORS})


@router.post("/" + REG_PATH, include_in_schema=False)
async def register(request: Request) -> JSONResponse:
    """Dynamic client registration (RFC 7591 §3), open to anyone: public clients get no
    secret, confidential ones a secret shown once."""
    identity = _identity(request)
    raw = await request.body()
    if len(raw) > MAX_REGISTRATION:
        return _error(413, "invalid_client_metadata", "the registration is too large")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _error(400, "invalid_client_metadata", "the body must be a JSON object")
    try:
        needs, _, hook = app_extensions(data, None)
    except ClientError as error:
        return _error(400, "invalid_client_metadata", str(error))
    call = Call(metadata=metadata(identity.issuer))
    provider = identity.provider
    status, body, _ = provider.run(call, provider.create_endpoint_response,
                                   "client_registration",
                                   RegistrationRequest(identity.issuer + REG_PATH,
                                                       request.headers, data))
    if status == 201 and call.registered is not None:
        info, saved = call.registered
        extensions = {k: data[k] for k in ("access_needs", "grant_webhook") if k in data}
        await clients(request).save(replace(info, needs=needs, webhook=hook),
                                    {**saved, **extensions})
        body = {k: v for k, v in body.items() if v is not None}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **CORS})


@router.options("/" + TOKEN_PATH, include_in_schema=False)
@router.options("/" + REG_PATH, include_in_schema=False)
async def preflight() -> Response:
    """CORS preflight for browser apps (the DPoP header is not a simple header)."""
    return Response(status_code=204, headers={
        **CORS, "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, DPoP",
        "Access-Control-Max-Age": "600"})


def _error(status: int, error: str, description: str) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **CORS})
