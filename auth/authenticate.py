"""Who is calling? Turns a request's credentials into an :class:`~pod.access.agent.Agent`.

Requests without credentials are anonymous. Solid-OIDC DPoP-bound tokens are verified here
once the identity provider lands (issue #3); until then a request carrying an
``Authorization`` header is refused rather than silently treated as anonymous.
"""

from __future__ import annotations

from pod.access.agent import ANONYMOUS, Agent
from pod.access.decide import CHALLENGE
from pod.errors import Unauthenticated


async def authenticate(authorization: str | None, origin: str | None) -> Agent:
    """The agent behind a request's ``Authorization`` header."""
    if not authorization:
        return ANONYMOUS if origin is None else Agent(origin=origin)
    scheme = authorization.split(" ", 1)[0]
    raise Unauthenticated(f"access tokens of scheme {scheme!r} are not accepted by this server",
                          headers={"WWW-Authenticate": CHALLENGE})
