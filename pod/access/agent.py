"""Who is calling: the result of authentication, as the access decision sees it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Agent:
    """An authenticated WebID (with the app and issuer it came through), or nobody.

    ``app`` is the client id of an app acting on the WebID's behalf — set only for tokens this
    server issued through the authorization-code flow, where the owner's consent (access
    grants) bounds what the app may do. It is ``None`` for the account's own client
    credentials (the person's own scripts), for tokens of other issuers and for anonymous
    requests.
    """

    webid: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    origin: str | None = None
    app: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.webid is not None


ANONYMOUS = Agent()
