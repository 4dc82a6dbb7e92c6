"""DPoP proof verification (RFC 9449) for the resource server and the token endpoint.

A proof is a JWS signed by the client's key, which travels in its ``jwk`` header; its RFC 7638
thumbprint (``jkt``) is what access tokens are bound to (RFC 9449 §6). Every check of §4.3 runs
here; the caller passes the one DPoP header value, the request method and URL. Imported public
keys are cached by thumbprint, so a known client costs one signature check and some JSON.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from joserfc import jwk, jws
from joserfc.errors import ExceededSizeError, JoseError, UnsupportedAlgorithmError
from joserfc.jwa import JWSAlgModel
from joserfc.util import base64_to_int, urlsafe_b64encode

from pod.errors import Unauthenticated

ALGORITHMS = ("ES256", "ES384", "PS256", "RS256", "EdDSA")
PROOF_TYPE = "dpop+jwt"
MAX_PROOF_CHARS = 8192
MAX_JTI_CHARS = 256
MIN_RSA_BITS = 2048
KEY_CACHE_SIZE = 1024
URL_CACHE_SIZE = 1024

# RFC 7638 §3.2: the required members of each key type, the only ones hashed.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"),
                       "RSA": ("e", "kty", "n")}
# RFC 7518 §6.2.2, §6.3.2, §6.4 and RFC 8037 §2: members only a private or secret key has.
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE = re.compile(r'[^\x20\x21\x23-\x5b\x5d-\x7e]')  # RFC 6750 §3: error_description chars


@dataclass(frozen=True, slots=True)
class Proof:
    """A verified proof: the key's thumbprint and the claims the caller may still need."""

    jkt: str
    jti: str
    iat: int
    htm: str
    htu: str
    jwk: dict[str, Any]


def challenge(error: str, description: str) -> str:
    """A ``WWW-Authenticate: DPoP`` challenge (RFC 9449 §7.1) with an RFC 6750 §3 error."""
    safe = _UNSAFE.sub("'", description)
    return f'DPoP error="{error}", error_description="{safe}", algs="{" ".join(ALGORITHMS)}"'


def rejection(detail: str, error: str = "invalid_dpop_proof") -> Unauthenticated:
    """The 401 for a refused proof or token, its challenge naming the error."""
    return Unauthenticated(detail, headers={"WWW-Authenticate": challenge(error, detail)})


def _short(value: object, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


Mark = Callable[[bytes, float], Awaitable[bool]]
"""Marks a key until a Unix time; ``False`` when it is marked already (the store's
``mark_once``, shared by every process using the store)."""


class ReplayCache:
    """The (jkt, jti) pairs seen (RFC 9449 §11.1), each marked until its ``iat + window``.

    The marks are the store's (``Backend.mark_once``): every process serving from one store —
    the workers of ``serve --workers``, processes on other hosts sharing a PostgreSQL
    database — sees every proof any of them accepted, so a proof replayed to another process
    is refused too. Without a store's marks (``mark=None``) they are kept in this process's
    memory, bounded: when ``max_entries`` unexpired pairs are held, new proofs are refused
    rather than an unexpired pair forgotten, which would let its proof be replayed.
    """

    def __init__(self, mark: Mark | None = None, window: int = 65, max_entries: int = 400_000):
        # A proof is accepted for 60 s (+5 s leeway): short, as RFC 9449 §11.1 advises.
        self.window = window
        self.max_entries = max_entries
        self._mark = mark or self._mark_here
        self._seen: dict[bytes, float] = {}
        self._expiry: list[tuple[float, bytes]] = []

    async def check_and_remember(self, jkt: str, jti: str, iat: int) -> None:
        """Remember the pair; raises :class:`Unauthenticated` if it was seen before."""
        key = hashlib.blake2b(jkt.encode() + b"\0" + jti.encode(), digest_size=16).digest()
        if not await self._mark(key, iat + self.window):
            raise rejection("DPoP proof jti was already used; create a fresh proof (new jti) "
                            "for every request")

    async def _mark_here(self, key: bytes, expires: float) -> bool:
        """The marks in this process's memory."""
        heap, now = self._expiry, time.time()
        while heap and heap[0][0] < now:
            self._seen.pop(heapq.heappop(heap)[1], None)
        if key in self._seen:
            return False
        if len(self._seen) >= self.max_entries:
            raise rejection("too many recent DPoP proofs to check for replay; retry shortly")
        self._seen[key] = expires
        heapq.heappush(heap, (expires, key))
        return True


class _Registry(jws.JWSRegistry):
    """joserfc's JWS registry for proofs: room for an RSA-4096 ``jwk`` header (about 1 kB)."""

    max_header_length = 4096
    max_payload_length = MAX_PROOF_CHARS

    def get_alg(self, name: str) -> JWSAlgModel:
        """The allowed algorithm, without joserfc's RFC 9864 deprecation warning for EdDSA
        on every proof: RFC 9449 clients use EdDSA."""
        if name not in ALGORITHMS:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


_REGISTRY = _Registry(algorithms=ALGORITHMS, strict_check_header=False)
_keys: OrderedDict[str, jwk.Key] = OrderedDict()


def _members(key: dict[str, Any]) -> dict[str, str]:
    """The RFC 7638 §3.2 required members of a public JWK; ValueError when malformed."""
    kty = key.get("kty")
    names = _THUMBPRINT_MEMBERS.get(kty) if isinstance(kty, str) else None
    if names is None:
        raise ValueError(f"kty {_short(kty)!r} is not supported (use EC, OKP or RSA)")
    members: dict[str, str] = {}
    for name in names:
        value = key.get(name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"member {name!r} is missing or not a string")
        members[name] = value
    return members


def thumbprint(key: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of a public JWK, base64url; ValueError when malformed."""
    return _thumbprint(tuple(_members(key).items()))


@lru_cache(maxsize=KEY_CACHE_SIZE)
def _thumbprint(members: tuple[tuple[str, str], ...]) -> str:
    """The thumbprint of required members, remembered: a client signs every proof with the
    same key."""
    return jwk.thumbprint(dict(members))


def _import(members: dict[str, str]) -> jwk.Key:
    """A public key from its required members only (no ``alg``/``use`` carried along)."""
    if members["kty"] == "RSA" and base64_to_int(members["n"]).bit_length() < MIN_RSA_BITS:
        raise ValueError(f"RSA keys must have at least {MIN_RSA_BITS} bits")
    data: dict[str, str | list[str]] = {**members}  # joserfc's DictKey
    return jwk.import_key(data)  # of the type its kty names


def _public_key(members: dict[str, str], jkt: str) -> jwk.Key:
    """The imported key for a thumbprint, from a small LRU cache."""
    key = _keys.get(jkt)
    if key is not None:
        _keys.move_to_end(jkt)
        return key
    try:
        key = _import(members)
    except (JoseError, ValueError, TypeError) as error:
        raise rejection(f"DPoP proof jwk is not a valid public key: {_short(error)}") from None
    _keys[jkt] = key
    if len(_keys) > KEY_CACHE_SIZE:
        _keys.popitem(last=False)
    return key


def _parse(proof: str) -> jws.CompactSignature:
    """RFC 9449 §4.3 items 1–2: one well-formed JWS compact value."""
    if not proof:
        raise rejection("DPoP header is missing or empty")
    if "," in proof:
        raise rejection("send exactly one DPoP header (several values were joined)")
    if len(proof) > MAX_PROOF_CHARS or not _COMPACT.fullmatch(proof):
        raise rejection("DPoP header is not a JWS in compact serialization")
    try:
        return jws.extract_compact(proof.encode("ascii"), registry=_REGISTRY)
    except ExceededSizeError:
        raise rejection("DPoP proof header is too large") from None
    except (JoseError, ValueError) as error:
        raise rejection(f"DPoP proof does not decode: {_short(error)}") from None


def _check_header(header: dict[str, Any]) -> dict[str, Any]:
    """RFC 9449 §4.3 items 4, 5 and 7 (typ, alg, a public jwk); returns the ``jwk``."""
    if header.get("typ") != PROOF_TYPE:
        raise rejection(f"DPoP proof header typ must be {PROOF_TYPE!r}")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise rejection(f"DPoP proof alg {_short(alg)!r} is not accepted; use one of "
                        f"{', '.join(ALGORITHMS)}")
    if "b64" in header:
        raise rejection("DPoP proof must not use the b64 header (RFC 7797)")
    key = header.get("jwk")
    if not isinstance(key, dict):
        raise rejection("DPoP proof header lacks the jwk (the client's public key)")
    private = [name for name in _PRIVATE_MEMBERS if name in key]
    if private:
        raise rejection(f"DPoP proof jwk contains private key member(s) {', '.join(private)}; "
                        "send only the public key")
    return key


def _verify_signature(obj: jws.CompactSignature, key: jwk.Key) -> None:
    """RFC 9449 §4.3 item 6: the signature verifies with the header's own key."""
    try:
        valid = jws.validate_compact(obj, key, registry=_REGISTRY)
    except JoseError as error:
        raise rejection(f"DPoP proof alg does not fit its jwk: {_short(error)}") from None
    if not valid:
        raise rejection("DPoP proof signature does not verify with its jwk")


def _claims(obj: jws.CompactSignature) -> dict[str, Any]:
    try:
        claims = json.loads(obj.payload)
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise rejection("DPoP proof payload is not a JSON object")
    return claims


@lru_cache(maxsize=URL_CACHE_SIZE)
def normalise_url(url: str) -> str | None:
    """Scheme, host and path after RFC 3986 §6.2.2–6.2.3 normalisation (case, percent-encoding,
    default port, empty path), dropping query and fragment (RFC 9449 §4.3 item 9); None when
    not an absolute http(s) URL without userinfo."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{_PERCENT.sub(_percent, parts.path) or '/'}"


def _percent(match: re.Match[str]) -> str:
    char = chr(int(match.group(1), 16))
    return char if char in _UNRESERVED else "%" + match.group(1).upper()


def _check_claims(claims: dict[str, Any], method: str, url: str, earliest: float,
                  latest: float) -> tuple[str, float]:
    """RFC 9449 §4.3 items 3, 8, 9 and 11 (jti, htm, htu, iat); returns jti and iat."""
    jti, htm, htu, iat = (claims.get(name) for name in ("jti", "htm", "htu", "iat"))
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_CHARS:
        raise rejection(f"DPoP proof jti must be a string of 1 to {MAX_JTI_CHARS} characters")
    if htm != method:
        raise rejection(f"DPoP proof htm {_short(htm)!r} does not match the request method "
                        f"{method!r}")
    expected = normalise_url(url)
    if not isinstance(htu, str) or expected is None or normalise_url(htu) != expected:
        raise rejection(f"DPoP proof htu does not match the request URL {_short(expected or url)}")
    if isinstance(iat, bool) or not isinstance(iat, int | float) or not math.isfinite(iat):
        raise rejection("DPoP proof iat must be a number (seconds since the epoch)")
    if iat < earliest:
        raise rejection("DPoP proof is too old (iat); create a fresh proof for every request")
    if iat > latest:
        raise rejection("DPoP proof iat is in the future; check the client's clock")
    return jti, iat


def _check_ath(claims: dict[str, Any], access_token: str) -> None:
    """RFC 9449 §4.3 item 12: ``ath`` is the base64url SHA-256 of the access token.

    Checked whenever present. A proof without it is accepted: the Inrupt client libraries
    (solid-client-authn 5), like other Solid clients, omit it, and the Community Solid Server
    accepts that. The proof must still be signed by the key the token is bound to (``cnf.jkt``),
    which the caller checks, so only the holder of that key can use the token.
    """
    ath = claims.get("ath")
    if ath is None:
        return
    if not isinstance(ath, str):
        raise rejection("DPoP proof ath must be a string")
    expected = urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest())
    if not hmac.compare_digest(ath.encode(), expected):
        raise rejection("DPoP proof ath does not match the access token")


async def verify_proof(proof: str, *, method: str, url: str, replay: ReplayCache,
                 access_token: str | None = None, now: float | None = None,
                 max_age: int = 60, leeway: int = 5) -> Proof:
    """Verify one DPoP header value against the request (RFC 9449 §4.3).

    ``iat`` must lie within ``[now - max_age - leeway, now + leeway]``, the lower bound capped
    at ``replay.window`` so a proof is refused before the cache could forget it. With
    ``access_token`` (resource requests, §7.1) ``ath`` must match it; comparing ``jkt`` with the
    token's ``cnf.jkt`` is the caller's part of item 12. No ``nonce`` is asked for. Raises
    :class:`Unauthenticated` with a ``WWW-Authenticate: DPoP`` challenge on any failure.
    """
    now = time.time() if now is None else now
    obj = _parse(proof)
    key = _check_header(obj.headers())
    try:
        members = _members(key)
    except ValueError as error:
        raise rejection(f"DPoP proof jwk is not a valid public key: {error}") from None
    jkt = _thumbprint(tuple(members.items()))
    _verify_signature(obj, _public_key(members, jkt))
    claims = _claims(obj)
    earliest = now - min(max_age + leeway, replay.window)
    jti, iat = _check_claims(claims, method, url, earliest, now + leeway)
    if access_token is not None:
        _check_ath(claims, access_token)
    await replay.check_and_remember(jkt, jti, math.ceil(iat))
    return Proof(jkt, jti, int(iat), claims["htm"], claims["htu"], key)
