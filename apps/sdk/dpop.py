"""DPoP proofs (RFC 9449): a key pair that proves possession of a token, one fresh proof per
request.

A proof is a JWT signed by the key, whose header carries the public key (§4.2): ``htm`` and
``htu`` name the request (the URL without query and fragment), ``jti`` is new every time (a
server refuses a replayed one), ``iat`` is now, and with an access token ``ath`` is its
SHA-256 (§4.2, §7). Signing is joserfc's; nothing here is hand-made crypto.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey

ALGORITHM = "ES256"


def ath(access_token: str) -> str:
    """The ``ath`` claim: base64url (no padding) of the token's SHA-256 (RFC 9449 §4.2)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def htu(url: str) -> str:
    """The ``htu`` claim: the request URL without query and fragment (RFC 9449 §4.2)."""
    return url.split("#", 1)[0].split("?", 1)[0]


class DPoPKey:
    """An ES256 key pair that signs DPoP proofs. A new one is made unless ``key`` is given;
    a token bound to it (``cnf.jkt``) is useless without it, so keep it with the token."""

    def __init__(self, key: ECKey | None = None) -> None:
        self.key = key or ECKey.generate_key("P-256")

    @property
    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK (what each proof's header carries)."""
        return self.key.as_dict(private=False)

    @property
    def thumbprint(self) -> str:
        """The key's JWK thumbprint (RFC 7638), which a bound token names as ``cnf.jkt``."""
        return self.key.thumbprint()

    def claims(self, method: str, url: str, access_token: str | None = None, *,
               nonce: str | None = None) -> dict[str, Any]:
        """The claims of a fresh proof for one request (RFC 9449 §4.2)."""
        claims: dict[str, Any] = {"htm": method.upper(), "htu": htu(url),
                                  "jti": uuid.uuid4().hex, "iat": int(time.time())}
        if access_token is not None:
            claims["ath"] = ath(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        return claims

    def sign(self, claims: dict[str, Any]) -> str:
        """``claims`` as a DPoP proof JWT signed by this key."""
        header = {"typ": "dpop+jwt", "alg": ALGORITHM, "jwk": self.jwk}
        return jws.serialize_compact(header, json.dumps(claims).encode(), self.key,
                                     algorithms=[ALGORITHM])

    def proof(self, method: str, url: str, access_token: str | None = None, *,
              nonce: str | None = None) -> str:
        """A fresh proof for ``method`` on ``url``; with ``access_token``, bound to it."""
        return self.sign(self.claims(method, url, access_token, nonce=nonce))
