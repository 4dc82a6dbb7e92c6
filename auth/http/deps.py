"""The typed dependencies of auth's handlers: its services, the browser's session and the
client's address. Each service comes from :func:`pod.deps.service` (built once in
``create_app``); nothing here reads the app's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from auth.accounts import Accounts
from auth.addresses import client_address
from auth.consent import Consent
from auth.contributions import Contributions
from auth.credentials import Credentials
from auth.deletion import AccountDeletion
from auth.http import web
from auth.http.cookies import Cookies
from auth.http.csrf import Csrf
from auth.http.web import Pages
from auth.identity import Identity
from auth.invites import Invites
from auth.naming import Names
from auth.notify import Notifier
from auth.oidc.clients import Clients
from auth.people import People
from auth.profiles import Profiles
from auth.ratelimit import SignInLimits
from auth.received import Received
from auth.sessions import Session, Sessions
from auth.webhooks import Webhooks
from pod.access.browsing import PodBrowsing
from pod.access.portability import Portability
from pod.access.reading import ReadService
from pod.access.sharing import Sharing
from pod.deps import SettingsDep, service

AccountsDep = Annotated[Accounts, Depends(service(Accounts))]
ConsentDep = Annotated[Consent, Depends(service(Consent))]
CookiesDep = Annotated[Cookies, Depends(service(Cookies))]
CsrfDep = Annotated[Csrf, Depends(service(Csrf))]
CredentialsDep = Annotated[Credentials, Depends(service(Credentials))]
DeletionDep = Annotated[AccountDeletion, Depends(service(AccountDeletion))]
IdentityDep = Annotated[Identity, Depends(service(Identity))]
InvitesDep = Annotated[Invites, Depends(service(Invites))]
ClientsDep = Annotated[Clients, Depends(service(Clients))]
LimitsDep = Annotated[SignInLimits, Depends(service(SignInLimits))]
PagesDep = Annotated[Pages, Depends(service(Pages))]
SessionsDep = Annotated[Sessions, Depends(service(Sessions))]
WebhooksDep = Annotated[Webhooks, Depends(service(Webhooks))]
SharingDep = Annotated[Sharing, Depends(service(Sharing))]
PeopleDep = Annotated[People, Depends(service(People))]
NotifierDep = Annotated[Notifier, Depends(service(Notifier))]
PortabilityDep = Annotated[Portability, Depends(service(Portability))]
ReadsDep = Annotated[ReadService, Depends(service(ReadService))]
NamesDep = Annotated[Names, Depends(service(Names))]
ProfilesDep = Annotated[Profiles, Depends(service(Profiles))]
ContributionsDep = Annotated[Contributions, Depends(service(Contributions))]
ReceivedDep = Annotated[Received, Depends(service(Received))]
BrowsingDep = Annotated[PodBrowsing, Depends(service(PodBrowsing))]


async def _session(request: Request, cookies: CookiesDep) -> Session | None:
    session = await cookies.session(request)
    web.signed_in.set(session.account if session else None)
    return session


SessionDep = Annotated[Session | None, Depends(_session)]
"""The browser's live session (``cp_session`` cookie), or ``None``."""


async def _address(request: Request, settings: SettingsDep) -> str | None:
    """The client's address (a coroutine function: FastAPI runs a plain one in a thread)."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.getlist("x-forwarded-for"),
                          settings.trusted_proxies)


AddressDep = Annotated[str | None, Depends(_address)]
"""The address the request comes from (:mod:`auth.addresses`: ``trusted_proxies``)."""
