"""DPoP-bound access tokens and DPoP proofs (RFC 9449) for the authenticated rows.

wrk's Lua cannot sign ES256, so every proof a run may send is made here beforehand: one per
request, each with its own `jti`, for the method and URL of that request, bound by its `ath` to
an access token fetched just before. A server accepts a proof only for a while after its `iat`
(Commonpod 300 s; the CSS 120 s, plus 120 s of clock tolerance) and never the same `jti` twice,
so each table is made right before the run that sends it and is never used again.

Keys, proofs and the client-credentials sign-in are the SDK's (apps/sdk), taken from this
checkout.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from servers import BenchError, ClientCredentials
from workload import ProofTable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the SDK of this checkout (apps/sdk), not an installed one

from apps.sdk import SdkError, Session, client_credentials  # noqa: E402
from apps.sdk.dpop import DPoPKey  # noqa: E402

PROOF_MARGIN = 1.5  # proofs made per request a run is expected to send
MIN_PROOFS = 1_000
MAX_PROOFS = 150_000  # about 12 s to make and 90 MB of text
PROOF_LIFETIME_S = 240  # the shortest acceptance window of the two servers (the CSS's)
TOKEN_MIN_LEFT_S = 60  # a token with less time left than this is replaced before use


class DPoPClient:
    """One account's client credential with an ES256 key (the SDK's): DPoP-bound tokens from
    the SDK's client-credentials sign-in, and proofs."""

    def __init__(self, credentials: ClientCredentials):
        """A new key pair for `credentials`; no request is made yet."""
        self.credentials = credentials
        self._key = DPoPKey()
        self._session: Session | None = None
        self._lock = threading.Lock()  # headers() may be called from several threads

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        """A fresh proof for one request; with `access_token`, bound to it by `ath`."""
        return self._key.proof(method, url, access_token)

    def fresh_token(self) -> str:
        """A new DPoP-bound access token from the client-credentials grant."""
        c = self.credentials
        try:
            self._session = asyncio.run(client_credentials(
                c.issuer, c.client_id, c.client_secret, key=self._key,
                renew_before=TOKEN_MIN_LEFT_S))
        except SdkError as exc:
            raise BenchError(f"no token from {c.issuer}: {exc}") from None
        return self._session.access_token

    def headers(self, method: str, url: str) -> dict[str, str]:
        """Authorization and DPoP headers for one request, with a token that has time left."""
        with self._lock:
            session = self._session
            if session is None or session.expires_in < TOKEN_MIN_LEFT_S:
                self.fresh_token()
                session = self._session
        assert session is not None
        return session.headers(method, url)

    def proof_table(
        self, method: str, urls: Sequence[str], rate: float, seconds: float
    ) -> ProofTable:
        """A fresh token, and proofs for it for a run of `seconds` expected to go at `rate`
        requests/s (see proofs_needed), for `method` on `urls` taken in turn."""
        token = self.fresh_token()
        made_at = time.monotonic()
        requests = [
            (urlsplit(url).path, self._key.proof(method, url, token))
            for url in itertools.islice(itertools.cycle(urls), proofs_needed(rate, seconds))
        ]
        return ProofTable(f"DPoP {token}", requests, made_at)


def proofs_needed(rate: float, seconds: float) -> int:
    """How many proofs to make for a run of `seconds` expected to go at `rate` requests/s."""
    return min(MAX_PROOFS, max(MIN_PROOFS, math.ceil(rate * seconds * PROOF_MARGIN)))
