"""DPoP for tests, on the SDK (apps.sdk): keys and proofs (RFC 9449 §4.2), the
client-credentials grant, and the headers of one request. Tests that forge proofs may set a
proof's ``iat``, ``jti`` or any other claim; :func:`operator_token` signs tokens with the
server's own key and is the one helper here that needs the server."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from apps.sdk import client_credentials
from apps.sdk.dpop import DPoPKey as SdkKey


class DPoPKey(SdkKey):
    """The SDK's ES256 proof key, whose proofs a test may bend: another ``iat`` or ``jti``,
    or extra claims."""

    def proof(self, method: str, url: str, access_token: str | None = None, *,
              iat: float | None = None, jti: str | None = None, nonce: str | None = None,
              **extra: Any) -> str:
        claims = self.claims(method, url, access_token, nonce=nonce)
        if iat is not None:
            claims["iat"] = int(iat)
        if jti is not None:
            claims["jti"] = jti
        return self.sign({**claims, **extra})


def client_credentials_token(issuer: str, client_id: str, secret: str, key: DPoPKey) -> str:
    """A DPoP-bound access token from the client-credentials grant (the SDK's sign-in)."""
    session = asyncio.run(client_credentials(issuer, client_id, secret, key=key))
    return session.access_token


def dpop_headers(key: DPoPKey, token: str, method: str, url: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": key.proof(method, url, token)}


class DPoPClient:
    """One identity with a DPoP key and a client-credentials token from ``issuer``; its
    requests are plain httpx requests, so tests see every answer as it is."""

    def __init__(self, issuer: str, who: dict[str, str]):
        self.who, self.key = who, DPoPKey()
        self.token = client_credentials_token(issuer, who["client_id"], who["client_secret"],
                                              self.key)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}),
                   **dpop_headers(self.key, self.token, method, url)}
        return httpx.request(method, url, headers=headers, timeout=20, **kwargs)


def operator_token(data_dir: Path, issuer: str, **changes: Any) -> tuple[str, DPoPKey]:
    """An access token signed with the server's real key (read as its operator can), with
    claims changed: for tests of what the resource server accepts."""
    from auth.accounts import instance_of
    from auth.oidc.dpop import thumbprint
    from auth.oidc.tokens import ACCOUNT_CLAIM, SigningKeys
    from pod.runtime import open_runtime
    from pod.settings import load as load_settings

    key = DPoPKey()
    webid = str(changes.get("webid", issuer + "alice/profile/card#me"))

    async def sign() -> str:
        rt = await open_runtime(load_settings({"data_dir": data_dir}))
        try:
            keys = await SigningKeys.load_or_create(rt.system)
            instance = await instance_of(rt.pods, issuer, webid)  # what real tokens carry
        finally:
            await rt.close()
        now = int(time.time())
        claims = {"iss": issuer, "sub": "x", "webid": webid,
                  "client_id": "cred_forged", "aud": ["solid", "cred_forged"], "iat": now,
                  "exp": now + 300, "jti": uuid.uuid4().hex, "scope": "webid",
                  "cnf": {"jkt": thumbprint(key.jwk)}}
        if instance is not None:
            claims[ACCOUNT_CLAIM] = instance
        claims.update(changes)
        return keys.sign(claims, typ="at+jwt")

    return asyncio.run(sign()), key
