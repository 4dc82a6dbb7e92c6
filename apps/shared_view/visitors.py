"""Who a browser belongs to, after they joined: a random token in an HttpOnly, SameSite=Lax
cookie, mapped to the member's WebID in memory (never a WebID in the cookie itself). Used for
"what the app holds about you" and for leaving. A restart signs everyone out."""

from __future__ import annotations

import secrets
from collections.abc import Mapping

PREFIX = "sv"  # the shared view's cookies: sv_member, sv_flow
MAX_VISITORS = 100_000


class Visitors:
    """Signed-in members by cookie token. Each app names its cookies with its own ``prefix``
    (``{prefix}_member``; ``{prefix}_flow``, the state of the sign-in this browser started):
    cookies do not tell ports apart, so apps served from one host must not share a name."""

    def __init__(self, prefix: str = PREFIX) -> None:
        self.cookie, self.flow_cookie = f"{prefix}_member", f"{prefix}_flow"
        self._by_token: dict[str, str] = {}

    def of(self, cookies: Mapping[str, str]) -> str | None:
        """The WebID of the member whose browser sent ``cookies``, if signed in."""
        return self.webid(cookies.get(self.cookie))

    def sign_in(self, webid: str) -> str:
        """A new token for ``webid``."""
        while len(self._by_token) >= MAX_VISITORS:
            del self._by_token[next(iter(self._by_token))]
        made = secrets.token_urlsafe(32)
        self._by_token[made] = webid
        return made

    def webid(self, token: str | None) -> str | None:
        return self._by_token.get(token) if token else None

    def sign_out(self, token: str | None) -> None:
        if token:
            self._by_token.pop(token, None)

    def forget(self, webid: str) -> None:
        """End every sign-in of ``webid``."""
        for t in [t for t, w in self._by_token.items() if w == webid]:
            del self._by_token[t]
