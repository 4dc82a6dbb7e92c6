"""Who is calling: the result of authentication, as the access decision sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Agent:
    """An authenticated WebID (with the app and issuer it came through), or nobody."""

    webid: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    origin: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.webid is not None


ANONYMOUS = Agent()
