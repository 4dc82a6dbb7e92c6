"""The identity provider's signing key and the tokens it signs (Solid-OIDC).

One ES256 key pair, sealed as a system record and created on first start. Access tokens are
RFC 9068 JWTs bound to the client's DPoP key (``cnf.jkt``, RFC 9449 §6.1); ID tokens follow
OpenID Connect Core §2. Verified access tokens are cached by their SHA-256 until they expire,
so a client's repeated requests cost a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections import OrderedDict
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import ECKey
from joserfc.jwt import ClaimsOption

from auth.oidc.dpop import rejection
from pod.errors import ConfigError, Unauthenticated
from pod.store.system import SystemRecords, dump

SIGNING_KEY_RECORD = "oidc:signing-key"
ALG = "ES256"
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")  # RFC 9068 §2.1, §4
AUDIENCE = "solid"
LEEWAY = 5
#: a private claim (RFC 7519 §4.3): the instance of the account's pod the token was issued for
#: (:attr:`pod.store.sealed.PodKeys.instance`), so that it dies with the account
ACCOUNT_CLAIM = "cp_account"
CACHE_SIZE = 10_000

_REGISTRY = jws.JWSRegistry(algorithms=[ALG])


def _new_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"alg": ALG, "use": "sig"}, private=True,
                              auto_kid=True)  # kid: the RFC 7638 thumbprint


def _load_key(data: bytes) -> ECKey:
    """The stored private JWK; :class:`ConfigError` when it is not an ES256 private key."""
    try:
        key = ECKey.import_key(json.loads(data))
    except (ValueError, TypeError, JoseError) as error:
        raise ConfigError(f"system record {SIGNING_KEY_RECORD!r} is not a JWK: {error}") from None
    if not key.is_private or key.curve_name != "P-256":
        raise ConfigError(f"system record {SIGNING_KEY_RECORD!r} is not a P-256 private key")
    return key


class SigningKeys:
    """The provider's ES256 key pair; ``kid`` is its RFC 7638 thumbprint."""

    def __init__(self, key: ECKey):
        key.ensure_kid()
        self._key = key
        self.kid = str(key.kid)
        self._public = {**key.as_dict(private=False), "kid": self.kid, "alg": ALG, "use": "sig"}

    @classmethod
    async def load_or_create(cls, system: SystemRecords) -> SigningKeys:
        """The key in the system records, created there in one transaction when absent."""
        opened = await system.get(SIGNING_KEY_RECORD)
        if opened is not None:
            return cls(_load_key(opened.data))
        async with system.write() as tx:
            opened = await tx.get(SIGNING_KEY_RECORD)  # another process may have just made it
            if opened is not None:
                return cls(_load_key(opened.data))
            key = _new_key()
            await tx.put(SIGNING_KEY_RECORD, dump(key.as_dict(private=True)))
        return cls(key)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public JWK Set (RFC 7517 §5) for the provider's ``jwks_uri``."""
        return {"keys": [dict(self._public)]}

    def sign(self, claims: dict[str, Any], typ: str = "JWT") -> str:
        """A JWS compact JWT of ``claims`` (RFC 7519 §7.1) with ``kid`` and ``typ``."""
        header = {"alg": ALG, "kid": self.kid, "typ": typ}
        return jwt.encode(header, claims, self._key, registry=_REGISTRY)

    def verified(self, token: str) -> tuple[dict[str, Any], bytes]:
        """Header and payload of a JWT signed by this key; JoseError or ValueError otherwise."""
        if not token.isascii():
            raise ValueError("it is not ASCII")
        obj = jws.extract_compact(token.encode(), registry=_REGISTRY)
        header = obj.headers()
        if header.get("kid") != self.kid:
            raise ValueError("it was not signed by this server's current key (kid)")
        if not jws.validate_compact(obj, self._key, registry=_REGISTRY):
            raise ValueError("its signature does not verify")
        return header, obj.payload


def _invalid(detail: str) -> Unauthenticated:
    return rejection(detail, error="invalid_token")


def _claim_problem(error: ClaimError, issuer: str) -> str:
    """A developer-readable reason for a joserfc claims error."""
    if isinstance(error, ExpiredTokenError):
        return "access token has expired; request a new one"
    if isinstance(error, MissingClaimError):
        return f"access token lacks the claim(s) {error.claim}"
    if error.claim == "iss":
        return f"access token was not issued by {issuer}"
    if error.claim == "aud":
        return f"access token audience does not include '{AUDIENCE}'"
    return f"access token claim {error.claim} is invalid: {error.description}"


class AccessTokens:
    """Mints and verifies this provider's DPoP-bound JWT access tokens (RFC 9068)."""

    def __init__(self, keys: SigningKeys, issuer: str, lifetime: int = 300):
        self.keys = keys
        self.issuer = issuer
        self.lifetime = lifetime
        self._cache: OrderedDict[bytes, dict[str, Any]] = OrderedDict()

    def mint(self, *, webid: str, client_id: str, jkt: str, account: str,
             scope: str = "openid webid", now: float | None = None) -> tuple[str, int]:
        """An access token (RFC 9068 §2.2) bound to the DPoP key ``jkt`` and to the instance
        ``account`` of the account's pod, and its lifetime."""
        iat = int(time.time() if now is None else now)
        claims = {"iss": self.issuer, "sub": webid, "webid": webid, "client_id": client_id,
                  "aud": [AUDIENCE, client_id], "iat": iat, "exp": iat + self.lifetime,
                  "jti": secrets.token_urlsafe(16), "scope": scope, "cnf": {"jkt": jkt},
                  ACCOUNT_CLAIM: account}
        return self.keys.sign(claims, typ="at+jwt"), self.lifetime

    def verify(self, token: str, *, now: float | None = None) -> dict[str, Any]:
        """The claims of one of our access tokens (RFC 9068 §4); raises Unauthenticated."""
        now = time.time() if now is None else now
        known = self.verified_before(token, now=now)
        if known is not None:
            return known
        claims = self._verify(token, now)
        self._cache[hashlib.sha256(token.encode()).digest()] = claims
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return dict(claims)

    def verified_before(self, token: str, *, now: float | None = None) -> dict[str, Any] | None:
        """The claims of a token this process verified already and still holds (``None``:
        not held); raises Unauthenticated once it has expired."""
        digest = hashlib.sha256(token.encode()).digest()
        claims = self._cache.get(digest)
        if claims is None:
            return None
        if claims["exp"] <= (time.time() if now is None else now) - LEEWAY:
            del self._cache[digest]
            raise _invalid("access token has expired; request a new one")
        self._cache.move_to_end(digest)
        return dict(claims)

    def _verify(self, token: str, now: float) -> dict[str, Any]:
        try:
            header, payload = self.keys.verified(token)
        except (JoseError, ValueError) as error:
            raise _invalid(f"access token is not valid here: {error}") from None
        if header.get("typ") not in ACCESS_TOKEN_TYPES:
            raise _invalid("access token header typ must be at+jwt (RFC 9068 §2.1)")
        try:
            claims = json.loads(payload)
        except ValueError:
            claims = None
        if not isinstance(claims, dict):
            raise _invalid("access token payload is not a JSON object")
        self._check_claims(claims, now)
        return claims

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        """RFC 9068 §4: issuer, audience, lifetime; RFC 9449 §6.1: a ``cnf.jkt`` binding; and
        claims later steps use (the WebID, the client id) of the type they expect."""
        essential: ClaimsOption = {"essential": True}
        registry = jwt.JWTClaimsRegistry(
            now=int(now), leeway=LEEWAY, iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": AUDIENCE}, sub=essential, webid=essential,
            exp=essential, iat=essential, cnf=essential)
        try:
            registry.validate(claims)
        except ClaimError as error:
            raise _invalid(_claim_problem(error, self.issuer)) from None
        cnf = claims["cnf"]
        if not isinstance(cnf, dict) or not isinstance(cnf.get("jkt"), str) or not cnf["jkt"]:
            raise _invalid("access token is not bound to a DPoP key (cnf.jkt)")
        webid = claims["webid"]
        if not isinstance(webid, str) or not webid.startswith(("https://", "http://")):
            raise _invalid("access token's webid claim is not an http(s) URL (Solid-OIDC §5.1)")
        if not isinstance(claims.get("client_id", ""), str):
            raise _invalid("access token's client_id claim is not a string (RFC 9068 §2.2)")

    def sign_id_token(self, *, webid: str, client_id: str, nonce: str | None,
                      now: float | None = None, lifetime: int = 3600) -> str:
        """An OpenID Connect ID token (Core §2) for ``webid``, as Solid-OIDC §7 describes."""
        iat = int(time.time() if now is None else now)
        claims: dict[str, Any] = {"iss": self.issuer, "sub": webid, "webid": webid,
                                  "aud": client_id, "azp": client_id, "iat": iat,
                                  "exp": iat + lifetime}
        if nonce is not None:
            claims["nonce"] = nonce
        return self.keys.sign(claims)
