"""Access tokens from other Solid-OIDC issuers (Solid-OIDC §8, "Resource server").

The token's own ``webid`` and ``iss`` claims, read before any check, only say where to look:
the WebID profile must name ``iss`` as ``solid:oidcIssuer`` (§8.3), the issuer's discovery
document (OpenID Connect Discovery §4) gives ``jwks_uri``, and the key with the token's ``kid``
must verify it; then ``aud`` must contain ``solid``, ``exp``/``iat`` must hold and ``cnf.jkt``
must bind it to a DPoP key (RFC 9449 §6). Verified claims are cached until ``exp``. Every
document comes through :class:`~auth.fetch.Fetcher`, so each check is bounded and guarded. A
WebID of this server never gets here (:mod:`auth.authenticate` refuses another issuer's token
for one before any check), so this server's own profiles are never fetched.

A fetch that is refused or fails gives the client a generic 401 detail ("the issuer's keys
could not be fetched"): the reason — an address a name resolved to, a connection reset — would
tell a caller about networks it cannot see, so it goes to the server's debug log only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from typing import Any, TypeGuard

import pyoxigraph as ox
from joserfc import jwk, jws, jwt
from joserfc.errors import (
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwa import JWSAlgModel
from joserfc.util import urlsafe_b64decode

from auth.fetch import Fetched, Fetcher, FetchError
from auth.oidc.dpop import ALGORITHMS, rejection
from auth.oidc.tokens import AUDIENCE, CACHE_SIZE, LEEWAY
from pod.errors import Unauthenticated
from vocab.namespaces import SOLID, iri_of

SOLID_OIDC_ISSUER = iri_of(SOLID.oidcIssuer)
PROFILE_TYPES = ("text/turtle", "application/ld+json")
JSON_TYPES = ("application/json", "application/jwk-set+json")
RDF_FORMATS = {"text/turtle": ox.RdfFormat.TURTLE, "application/ld+json": ox.RdfFormat.JSON_LD}
MAX_TOKEN_CHARS = 16_384
log = logging.getLogger(__name__)
JWKS_REFRESH_AFTER = 60.0  # an unknown kid refetches the JWKS when it is older than this


class _Registry(jws.JWSRegistry):
    """Asymmetric algorithms only (never ``none`` or HMAC); EdDSA without joserfc's warning."""

    def get_alg(self, name: str) -> JWSAlgModel:
        if name not in ALGORITHMS:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


_REGISTRY = _Registry(algorithms=ALGORITHMS)


def _invalid(detail: str) -> Unauthenticated:
    return rejection(detail, error="invalid_token")


def _unfetched(what: str, url: str, error: FetchError) -> Unauthenticated:
    """The 401 for a document that could not be fetched: generic for the client, the reason
    in the debug log."""
    log.debug("fetching %s (%s) for a token check failed: %s", what, url, error)
    return _invalid(f"{what} could not be fetched")


def same_issuer(a: str, b: str) -> bool:
    """Issuer URLs compared exactly, apart from a trailing slash."""
    return a.rstrip("/") == b.rstrip("/")


def unverified_claims(token: str) -> dict[str, Any] | None:
    """The payload of a compact JWS, unverified; None when it does not decode."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        claims = json.loads(urlsafe_b64decode(parts[1].encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _http_url(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def _claim_problem(error: ClaimError) -> str:
    if isinstance(error, ExpiredTokenError):
        return "access token has expired; request a new one"
    if isinstance(error, MissingClaimError):
        return f"access token lacks the claim(s) {error.claim}"
    if error.claim == "aud":
        return f"access token audience does not include '{AUDIENCE}'"
    return f"access token claim {error.claim} is invalid: {error.description}"


class RemoteTokens:
    """Verifies access tokens issued by other Solid-OIDC providers."""

    def __init__(self, fetcher: Fetcher):
        self.fetcher = fetcher
        self._cache: OrderedDict[bytes, dict[str, Any]] = OrderedDict()

    async def verify(self, token: str, claims: dict[str, Any], *,
                     now: float | None = None) -> dict[str, Any]:
        """The verified claims of ``token``, whose unverified payload is ``claims``."""
        now = time.time() if now is None else now
        digest = hashlib.sha256(token.encode()).digest()
        cached = self._cache.get(digest)
        if cached is not None:
            if cached["exp"] > now - LEEWAY:
                self._cache.move_to_end(digest)
                return dict(cached)
            del self._cache[digest]
        verified = await self._verify(token, claims, now)
        self._cache[digest] = verified
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return dict(verified)

    async def _verify(self, token: str, claims: dict[str, Any], now: float) -> dict[str, Any]:
        issuer, webid = claims.get("iss"), claims.get("webid")
        if not _http_url(issuer):
            raise _invalid("access token iss is not an http(s) URL")
        if not _http_url(webid):
            raise _invalid("access token lacks a webid claim (an http(s) URL)")
        try:
            obj = jws.extract_compact(token.encode("ascii"), registry=_REGISTRY)
        except (JoseError, ValueError, UnicodeError) as error:
            raise _invalid(f"access token does not decode: {error}") from None
        await self._check_issuer(webid, issuer)
        key = await self._key(issuer, obj.headers().get("kid"))
        try:
            valid = jws.validate_compact(obj, key, registry=_REGISTRY)
        except JoseError as error:
            raise _invalid(f"access token alg does not fit the issuer's key: {error}") from None
        if not valid:
            raise _invalid(f"access token signature does not verify with {issuer}'s key")
        self._check_claims(claims, now)
        return claims

    async def _check_issuer(self, webid: str, issuer: str) -> None:
        """Solid-OIDC §8.3: the WebID profile names ``issuer`` as ``solid:oidcIssuer``."""
        document = webid.partition("#")[0]
        try:
            fetched = await self.fetcher.get(document, PROFILE_TYPES)
        except FetchError as error:
            raise _unfetched("the WebID profile", document, error) from None
        named = _issuers(fetched, webid)
        if not any(same_issuer(issuer, n) for n in named):
            raise _invalid(f"issuer {issuer} is not named in the WebID profile of {webid}"
                           f" (solid:oidcIssuer there: {', '.join(sorted(named)) or 'none'})")

    async def _key(self, issuer: str, kid: object) -> jwk.Key:
        """The issuer's public key with ``kid`` from its ``jwks_uri``."""
        config_url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        config = await self._json(config_url, "the issuer's OpenID configuration")
        if not isinstance(config.get("issuer"), str) or not same_issuer(config["issuer"], issuer):
            raise _invalid(f"{config_url} names another issuer ({config.get('issuer')!r})")
        jwks_uri = config.get("jwks_uri")
        if not _http_url(jwks_uri):
            raise _invalid(f"{config_url} has no jwks_uri")
        keys = await self._json(jwks_uri, "the issuer's keys", cache_control=True)
        found = _select(keys, kid)
        if found is None:  # perhaps a rotated key: look again, at most once a minute
            keys = await self._json(jwks_uri, "the issuer's keys", cache_control=True,
                                    max_age=JWKS_REFRESH_AFTER)
            found = _select(keys, kid)
        if found is None:
            raise _invalid(f"the JWKS of {issuer} has no signing key with kid {kid!r}")
        try:
            return jwk.import_key(found)
        except (JoseError, ValueError, TypeError) as error:
            raise _invalid(f"the key {kid!r} of {issuer} does not import: {error}") from None

    async def _json(self, url: str, what: str, **options: Any) -> dict[str, Any]:
        try:
            fetched = await self.fetcher.get(url, JSON_TYPES, **options)
            data = json.loads(fetched.body)
        except FetchError as error:
            raise _unfetched(what, url, error) from None
        except ValueError:
            raise _invalid(f"{what} at {url} is not JSON") from None
        if not isinstance(data, dict):
            raise _invalid(f"{what} at {url} is not a JSON object")
        return data

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        """RFC 9068 §4 audience and lifetime; RFC 9449 §6.1 ``cnf.jkt``."""
        essential: jwt.ClaimsOption = {"essential": True}
        registry = jwt.JWTClaimsRegistry(
            now=int(now), leeway=LEEWAY, aud={"essential": True, "value": AUDIENCE},
            exp=essential, iat=essential, cnf=essential)
        try:
            registry.validate(claims)
        except ClaimError as error:
            raise _invalid(_claim_problem(error)) from None
        cnf = claims["cnf"]
        if not isinstance(cnf, dict) or not isinstance(cnf.get("jkt"), str) or not cnf["jkt"]:
            raise _invalid("access token is not bound to a DPoP key (cnf.jkt)")


def _issuers(fetched: Fetched, webid: str) -> set[str]:
    """The ``solid:oidcIssuer`` values of ``webid`` in its profile (base: the document URL)."""
    try:
        quads = ox.parse(fetched.body, RDF_FORMATS[fetched.media_type], base_iri=fetched.url,
                         without_named_graphs=True)
        return {q.object.value for q in quads
                if q.subject == ox.NamedNode(webid)
                and q.predicate.value == SOLID_OIDC_ISSUER
                and isinstance(q.object, ox.NamedNode)}
    except (SyntaxError, ValueError) as error:
        raise _invalid(f"the WebID profile of {webid} does not parse: {error}") from None


def _select(keys: dict[str, Any], kid: object) -> dict[str, Any] | None:
    """The signing key with ``kid`` in a JWK Set (the only one when the token names none)."""
    candidates = [k for k in keys.get("keys", []) if isinstance(k, dict)
                  and k.get("use", "sig") == "sig" and "d" not in k]
    if kid is None:
        return candidates[0] if len(candidates) == 1 else None
    return next((k for k in candidates if k.get("kid") == kid), None)
