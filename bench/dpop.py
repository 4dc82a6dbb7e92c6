"""DPoP-bound access tokens and DPoP proofs (RFC 9449) for the authenticated rows.

wrk's Lua cannot sign ES256, so every proof a run may send is made here beforehand: one per
request, each with its own `jti`, for the method and URL of that request, bound by its `ath` to
an access token fetched just before. A server accepts a proof only for a while after its `iat`
(Commonpod 300 s; the CSS 120 s, plus 120 s of clock tolerance) and never the same `jti` twice,
so each table is made right before the run that sends it and is never used again.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
import threading
import time
import uuid
from collections.abc import Sequence
from urllib.parse import quote, urlencode, urlsplit

from joserfc import jws
from joserfc.jwk import ECKey
from servers import BenchError, ClientCredentials, http_request
from workload import ProofTable

PROOF_MARGIN = 1.5  # proofs made per request a run is expected to send
MIN_PROOFS = 1_000
MAX_PROOFS = 150_000  # about 12 s to make and 90 MB of text
PROOF_LIFETIME_S = 240  # the shortest acceptance window of the two servers (the CSS's)
TOKEN_MIN_LEFT_S = 60  # a token with less time left than this is replaced before use


class DPoPClient:
    """One account's client credential with an ES256 key: DPoP-bound tokens and proofs."""

    def __init__(self, credentials: ClientCredentials):
        """A new key pair for `credentials`; no request is made yet."""
        self.credentials = credentials
        self._key = ECKey.generate_key("P-256")
        public = self._key.as_dict(private=False)
        self._header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": public}
        self._token_endpoint = ""
        self._token, self._expires = "", 0.0  # the current access token and its time.time() end
        self._lock = threading.Lock()  # headers() may be called from several threads

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        """A fresh proof for one request; with `access_token`, bound to it by `ath`."""
        return self._sign(method, url, _ath(access_token) if access_token else None)

    def fresh_token(self) -> str:
        """A new DPoP-bound access token from the client-credentials grant."""
        endpoint = self._endpoint()
        identity = f"{quote(self.credentials.client_id, safe='')}:"
        identity += quote(self.credentials.client_secret, safe="")
        headers = {
            "Authorization": "Basic " + base64.b64encode(identity.encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "DPoP": self.proof("POST", endpoint),
        }
        form = urlencode({"grant_type": "client_credentials", "scope": "webid"}).encode()
        status, body = http_request("POST", endpoint, headers, form)
        answer = _json_object(body)
        if status != 200 or str(answer.get("token_type")).lower() != "dpop":
            raise BenchError(f"token request to {endpoint} -> {status}: {body[:500]!r}")
        self._token = str(answer["access_token"])
        self._expires = time.time() + float(answer.get("expires_in", 0))
        return self._token

    def headers(self, method: str, url: str) -> dict[str, str]:
        """Authorization and DPoP headers for one request, with a token that has time left."""
        with self._lock:
            token = self._token
            if time.time() > self._expires - TOKEN_MIN_LEFT_S:
                token = self.fresh_token()
        return {"Authorization": f"DPoP {token}", "DPoP": self.proof(method, url, token)}

    def proof_table(
        self, method: str, urls: Sequence[str], rate: float, seconds: float
    ) -> ProofTable:
        """A fresh token, and proofs for it for a run of `seconds` expected to go at `rate`
        requests/s (see proofs_needed), for `method` on `urls` taken in turn."""
        token = self.fresh_token()
        ath, made_at = _ath(token), time.monotonic()
        requests = [
            (urlsplit(url).path, self._sign(method, url, ath))
            for url in itertools.islice(itertools.cycle(urls), proofs_needed(rate, seconds))
        ]
        return ProofTable(f"DPoP {token}", requests, made_at)

    def _sign(self, method: str, url: str, ath: str | None) -> str:
        """A proof with a new jti and the current time, for `method` on `url` (its query and
        fragment dropped, RFC 9449 §4.2)."""
        claims = {
            "htm": method,
            "htu": url.split("?")[0].split("#")[0],
            "jti": uuid.uuid4().hex,
            "iat": int(time.time()),
        }
        if ath:
            claims["ath"] = ath
        return jws.serialize_compact(self._header, json.dumps(claims).encode(), self._key)

    def _endpoint(self) -> str:
        """The token endpoint, from the issuer's OpenID configuration (asked once)."""
        if not self._token_endpoint:
            url = self.credentials.issuer + ".well-known/openid-configuration"
            status, body = http_request("GET", url, {"Accept": "application/json"})
            endpoint = _json_object(body).get("token_endpoint")
            if status != 200 or not isinstance(endpoint, str):
                raise BenchError(f"GET {url} -> {status} without a token_endpoint: {body[:300]!r}")
            self._token_endpoint = endpoint
        return self._token_endpoint


def proofs_needed(rate: float, seconds: float) -> int:
    """How many proofs to make for a run of `seconds` expected to go at `rate` requests/s."""
    return min(MAX_PROOFS, max(MIN_PROOFS, math.ceil(rate * seconds * PROOF_MARGIN)))


def _ath(access_token: str) -> str:
    """The `ath` claim: base64url (no padding) of the SHA-256 of the access token."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _json_object(body: bytes) -> dict:
    """`body` as a JSON object; {} if it is not one."""
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
