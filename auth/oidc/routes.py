"""The identity provider's HTTP endpoints: discovery, JWKS and the token endpoint."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from auth.identity import Identity
from auth.oidc.dpop import verify_proof
from auth.oidc.provider import CredentialClient, oauth2_request
from pod.errors import BadRequest, Unauthenticated

router = APIRouter()
TOKEN_PATH = ".oidc/token"  # noqa: S105 - a path, not a secret
JWKS_PATH = ".oidc/jwks"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _identity(request: Request) -> Identity:
    return request.app.state.identity


@router.get("/.well-known/openid-configuration", include_in_schema=False)
async def discovery(request: Request) -> JSONResponse:
    """OpenID Provider metadata (OIDC Discovery §3) with what Solid-OIDC clients read (§5)."""
    issuer = _identity(request).issuer
    return JSONResponse({
        "issuer": issuer,
        "token_endpoint": issuer + TOKEN_PATH,
        "jwks_uri": issuer + JWKS_PATH,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "webid"],
        "claims_supported": ["sub", "webid", "iss", "aud", "client_id"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "dpop_signing_alg_values_supported": ["ES256", "ES384", "PS256", "RS256", "EdDSA"],
        "solid_oidc_supported": "https://solidproject.org/TR/solid-oidc",
    }, headers={"Access-Control-Allow-Origin": "*"})


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
    credential = await identity.credentials.find(client_id) if client_id else None
    client = CredentialClient(credential) if credential else None
    status, body, extra = identity.provider.token_response(
        oauth2_request("POST", url, request.headers, form), client, proof.jkt)
    return JSONResponse(body, status_code=status, headers={**dict(extra or []), **NO_STORE})


def _error(status: int, error: str, description: str) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=NO_STORE)
