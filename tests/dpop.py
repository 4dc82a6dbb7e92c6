"""A small DPoP client for tests: keys, proofs (RFC 9449 §4.2) and the client-credentials grant."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from joserfc import jws
from joserfc.jwk import ECKey


class DPoPKey:
    """An ES256 key pair that signs DPoP proofs."""

    def __init__(self) -> None:
        self.key = ECKey.generate_key("P-256")

    def proof(self, method: str, url: str, access_token: str | None = None, *,
              iat: float | None = None, jti: str | None = None, **extra: Any) -> str:
        claims: dict[str, Any] = {"htm": method, "htu": url, "jti": jti or uuid.uuid4().hex,
                                  "iat": int(time.time() if iat is None else iat), **extra}
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        return jws.serialize_compact(header, _json(claims), self.key)


def _json(claims: dict[str, Any]) -> bytes:
    import json

    return json.dumps(claims).encode()


def client_credentials_token(issuer: str, client_id: str, secret: str, key: DPoPKey) -> str:
    """Get a DPoP-bound access token with the client-credentials grant."""
    token_url = httpx.get(issuer + ".well-known/openid-configuration").json()["token_endpoint"]
    r = httpx.post(token_url, data={"grant_type": "client_credentials", "scope": "webid"},
                   auth=(client_id, secret), headers={"DPoP": key.proof("POST", token_url)})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    return r.json()["access_token"]


def dpop_headers(key: DPoPKey, token: str, method: str, url: str) -> dict[str, str]:
    return {"Authorization": f"DPoP {token}", "DPoP": key.proof(method, url, token)}


class DPoPClient:
    """One identity with a DPoP key and a client-credentials token from ``issuer``."""

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
    import asyncio

    from auth.oidc.dpop import thumbprint
    from auth.oidc.tokens import SigningKeys
    from pod.runtime import open_runtime
    from pod.settings import load as load_settings

    key = DPoPKey()

    async def sign() -> str:
        rt = await open_runtime(load_settings({"data_dir": data_dir}))
        try:
            keys = await SigningKeys.load_or_create(rt.system)
        finally:
            await rt.close()
        now = int(time.time())
        claims = {"iss": issuer, "sub": "x", "webid": issuer + "alice/profile/card#me",
                  "client_id": "cred_forged", "aud": ["solid", "cred_forged"], "iat": now,
                  "exp": now + 300, "jti": uuid.uuid4().hex, "scope": "webid",
                  "cnf": {"jkt": thumbprint(key.key.as_dict(private=False))}}
        claims.update(changes)
        return keys.sign(claims, typ="at+jwt")

    return asyncio.run(sign()), key
