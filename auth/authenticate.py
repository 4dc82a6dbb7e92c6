"""Who is calling? Turns a request's credentials into an :class:`~pod.access.agent.Agent`.

Solid-OIDC (§8) with DPoP (RFC 9449 §7): ``Authorization: DPoP <access token>`` plus a ``DPoP``
proof for this method and URL, signed by the key the token is bound to (``cnf.jkt``). A
DPoP-bound token presented as ``Bearer`` is refused; no DPoP nonce is ever required on resource
requests. Requests without credentials are anonymous, and so is ``Authorization: DPoP`` with no
token (the scheme alone carries no credentials; the Community Solid Server does the same), so
it can only reach what anyone may. Tokens of this server's issuer are
checked with its own key; with :class:`~auth.oidc.remote.RemoteTokens` given, tokens of other
issuers are checked as Solid-OIDC §8 describes (WebID profile → issuer → JWKS).

A token of this issuer for a WebID of this server is bound to the instance of the account's
pod (claim ``cp_account``): once the account is deleted — by the account page here or by the
command line in another process — its tokens are refused at their next request, even within
``exp`` and after the name was taken again.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from auth.credentials import ID_PREFIX as CREDENTIAL_PREFIX
from auth.oidc.dpop import ReplayCache, verify_proof
from auth.oidc.remote import RemoteTokens, same_issuer, unverified_claims
from auth.oidc.tokens import ACCOUNT_CLAIM, AccessTokens
from pod.access.agent import ANONYMOUS, Agent
from pod.access.decide import CHALLENGE
from pod.errors import Unauthenticated


def _refuse(detail: str) -> Unauthenticated:
    return Unauthenticated(detail, headers={
        "WWW-Authenticate": f'{CHALLENGE.split(",")[0]}, error="invalid_token"'})


Instances = Callable[[str], Awaitable[str | None]]
"""A WebID of this server → the instance of its account's pod, or ``None`` when gone."""


class Authenticator:
    """Verifies access tokens and their DPoP proofs for the resource server."""

    def __init__(self, tokens: AccessTokens, replay: ReplayCache,
                 remote: RemoteTokens | None = None, *, instances: Instances):
        self._tokens, self._replay, self._remote = tokens, replay, remote
        self._instances = instances

    async def agent(self, method: str, url: str, headers: dict[str, str]) -> Agent:
        """The agent behind a request (``url`` is the absolute URL the client used)."""
        origin = headers.get("origin")
        authorization = headers.get("authorization")
        if not authorization:
            return ANONYMOUS if origin is None else Agent(origin=origin)
        scheme, _, token = authorization.strip().partition(" ")
        scheme, token = scheme.lower(), token.strip()
        if scheme == "dpop" and not token:  # a scheme without credentials: nobody (as CSS)
            return ANONYMOUS if origin is None else Agent(origin=origin)
        if scheme == "bearer":
            raise _refuse("access tokens are DPoP-bound: send them as 'Authorization: DPoP'")
        if scheme != "dpop" or not token:
            raise _refuse(f"unsupported authorization scheme {scheme!r}")
        proof = headers.get("dpop")
        if not proof:
            raise _refuse("a DPoP proof header is required with a DPoP-bound token")
        # the proof first: it costs no network, so a forged token never makes us fetch
        checked = await verify_proof(proof, method=method, url=url, replay=self._replay,
                                     access_token=token)
        claims = await self._verify(token)
        if checked.jkt != claims.get("cnf", {}).get("jkt"):
            raise _refuse("the DPoP proof is signed by another key than the token is bound to")
        client_id = claims.get("client_id")
        local = same_issuer(claims["iss"], self._tokens.issuer)
        if local and str(claims["webid"]).startswith(self._tokens.issuer):
            await self._check_account(claims)
        app = client_id if local and isinstance(client_id, str) and \
            not client_id.startswith(CREDENTIAL_PREFIX) else None
        return Agent(webid=claims["webid"], client_id=client_id, issuer=claims["iss"],
                     origin=origin, app=app)

    async def _check_account(self, claims: dict[str, Any]) -> None:
        """Refuse a token whose account was deleted (its pod is gone or is another one now)."""
        current = await self._instances(str(claims["webid"]))
        held = claims.get(ACCOUNT_CLAIM)
        if current is None or not isinstance(held, str) or \
                not hmac.compare_digest(current.encode(), held.encode()):
            raise _refuse("the account this token was issued to no longer exists")

    async def _verify(self, token: str) -> dict[str, Any]:
        """The claims of a token of this issuer or, when allowed, of another one. A WebID of
        this server signs in with this server's issuer only: another issuer's token for one is
        refused before anything is read or fetched (its profile is never looked at)."""
        known = self._tokens.verified_before(token)
        if known is not None:  # ours, verified at an earlier request
            return known
        if self._remote is not None:
            peeked = unverified_claims(token) or {}
            issuer = peeked.get("iss")
            if isinstance(issuer, str) and not same_issuer(issuer, self._tokens.issuer):
                if str(peeked.get("webid", "")).startswith(self._tokens.issuer):
                    raise _refuse("WebIDs of this server sign in with this server's issuer "
                                  "only")
                return await self._remote.verify(token, peeked)
        return self._tokens.verify(token)
