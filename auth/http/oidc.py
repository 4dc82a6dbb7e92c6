"""The identity provider's HTTP endpoints: discovery, JWKS, the token endpoint and dynamic
client registration (the authorization endpoint is in :mod:`auth.http.authorize`)."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import ClientMixin
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from auth.accounts import load_account, local_name
from auth.http import authorize, bodies
from auth.http.authorize import AUTH_PATH, app_client
from auth.http.bodies import BodyError
from auth.http.deps import AddressDep, ClientsDep, IdentityDep
from auth.identity import Identity
from auth.oidc import client_metadata
from auth.oidc.client_metadata import AUTH_METHODS, SCOPES, ClientError
from auth.oidc.clients import app_extensions
from auth.oidc.dpop import verify_proof
from auth.oidc.grants import AppClient, Call
from auth.oidc.provider import CredentialClient, RegistrationRequest, oauth2_request
from auth.oidc.records import commit, load_code, load_refresh
from auth.oidc.tokens import ALG
from pod.deps import PodsDep, SystemDep
from pod.errors import BadRequest, Unauthenticated
from pod.store.directory import PodDirectory
from pod.store.system import SystemRecords
from vocab.namespaces import SOLID_OIDC

router = APIRouter()
router.include_router(authorize.router)
TOKEN_PATH = ".oidc/token"  # noqa: S105 - a path, not a secret
JWKS_PATH = ".oidc/jwks"
REG_PATH = ".oidc/reg"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CORS = {"Access-Control-Allow-Origin": "*"}
MAX_REGISTRATION = 16 * 1024


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
        "solid_oidc_supported": SOLID_OIDC,
    }


@router.get("/.well-known/openid-configuration", include_in_schema=False)
async def discovery(identity: IdentityDep) -> JSONResponse:
    return JSONResponse(metadata(identity.issuer), headers=CORS)


@router.get("/" + JWKS_PATH, include_in_schema=False)
async def jwks(identity: IdentityDep) -> JSONResponse:
    return JSONResponse(identity.keys.jwks(), headers={"Access-Control-Allow-Origin": "*"})


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
async def token(request: Request, identity: IdentityDep, clients: ClientsDep,
                system: SystemDep, pods: PodsDep) -> JSONResponse:
    """The token endpoint: every token it issues is bound to the caller's DPoP key."""
    url = identity.issuer + TOKEN_PATH
    try:
        form = bodies.single_values(await bodies.read_form(request))
    except BodyError as error:
        return _error(error.status, "invalid_request", error.detail, error.headers)
    headers = {k.lower(): v for k, v in request.headers.items()}
    proof_header = headers.get("dpop")
    if not proof_header:
        return _error(400, "invalid_dpop_proof", "a DPoP proof is required (RFC 9449)")
    try:
        proof = await verify_proof(proof_header, method="POST", url=url, replay=identity.replay)
    except Unauthenticated as exc:
        return _error(400, "invalid_dpop_proof", exc.detail)
    client_id = _client_id(headers, form)
    client: ClientMixin | None = None
    if client_id:
        credential = await identity.credentials.find(client_id)
        client = CredentialClient(credential) if credential else await app_client(clients,
                                                                                   client_id)
    call = Call()
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code" and form.get("code"):
        call.code = await load_code(system, form["code"])
    elif grant_type == "refresh_token" and form.get("refresh_token"):
        call.refresh = await load_refresh(system, form["refresh_token"])
    await _bind(identity, system, pods, grant_type, client, call)
    status, body, extra = identity.provider.token_response(
        oauth2_request("POST", url, request.headers, form), client, proof.jkt, call)
    if status == 200 and not await commit(system, call):
        return _error(400, "invalid_grant", "the code or refresh token was already used")
    if status == 200 and isinstance(client, AppClient):  # a used client is kept
        await clients.used(client.get_client_id())
    return JSONResponse(body, status_code=status,
                        headers={**dict(extra or []), **NO_STORE, **CORS})


async def _bind(identity: Identity, system: SystemRecords, pods: PodDirectory,
                grant_type: str | None, client: ClientMixin | None, call: Call) -> None:
    """Bind what the token endpoint issues to the account it is for: its name and the instance
    of its pod (``call.account``, ``call.instance``). Left unset when that account is gone, or
    is not the one the credential, code or refresh token was issued to (deleted, the name taken
    again): the provider then answers ``invalid_grant``, after authenticating the client."""
    issued: str | None = None
    uid = ""  # a credential's account (older credentials name none)
    if grant_type == "client_credentials" and isinstance(client, CredentialClient):
        webid, uid = client.credential.webid, client.credential.uid
    elif grant_type == "authorization_code" and call.code is not None:
        webid, issued = call.code.webid, call.code.instance or ""
    elif grant_type == "refresh_token" and call.refresh is not None:
        webid, issued = call.refresh.webid, call.refresh.instance or ""
    else:
        return  # nothing to issue: authlib answers the error
    name = local_name(identity.issuer, webid)
    keys = await pods.find(name) if name else None
    account = await load_account(system, name) if name and keys else None
    if keys is None or account is None or (uid and uid != account.uid):
        return
    if issued is not None and not hmac.compare_digest(issued.encode(), keys.instance.encode()):
        return
    call.account, call.instance = name, keys.instance


@router.post("/" + REG_PATH, include_in_schema=False)
async def register(request: Request, identity: IdentityDep, clients: ClientsDep,
                   address: AddressDep) -> JSONResponse:
    """Dynamic client registration (RFC 7591 §3), open to anyone: public clients get no
    secret, confidential ones a secret shown once. Every field is checked before authlib
    sees it (:mod:`auth.oidc.client_metadata`), so nothing unusable is ever stored. A few per
    address and hour (429 beyond); clients never used within a day are deleted
    (:mod:`auth.oidc.clients`)."""
    wait = await identity.registrations.retry_after(address)
    if wait:
        refused = _error(429, "temporarily_unavailable",
                         f"too many registrations from this address; try again in {wait} s")
        refused.headers["Retry-After"] = str(wait)
        return refused
    try:
        data = client_metadata.registration(await bodies.read_json(request, MAX_REGISTRATION))
        needs, _, hook = app_extensions(data, None)
    except BodyError as error:
        return _error(error.status, "invalid_client_metadata", error.detail, error.headers)
    except ClientError as error:
        return _error(400, error.error, str(error))
    call = Call(metadata=metadata(identity.issuer))
    provider = identity.provider
    status, body, _ = provider.run(call, provider.create_endpoint_response,
                                   "client_registration",
                                   RegistrationRequest(identity.issuer + REG_PATH,
                                                       request.headers, data))
    if status == 201 and call.registered is not None:
        info, saved = call.registered
        extensions: dict[str, Any] = {k: data[k] for k in ("access_needs", "grant_webhook")
                                      if k in data}
        await clients.save(replace(info, needs=needs, webhook=hook), {**saved, **extensions})
        await identity.registrations.registered(address)
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


def _error(status: int, error: str, description: str,
           headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers={**NO_STORE, **CORS, **(headers or {})})
