"""Statements received, ``/.account/statements``: the reward badges and reputation scores in
the owner's pod, each verified again now (:mod:`auth.received`) and shown with its issuer by
name, what it is for and its evidence — or, when it does not verify, why."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from auth.http import web
from auth.http.deps import NamesDep, PagesDep, ReceivedDep, SessionDep
from auth.received import MAX_SHOWN
from pod.deps import PodsDep
from pod.errors import PodError

router = APIRouter()
PAGE = "/.account/statements"


@router.get(PAGE, include_in_schema=False)
async def statements_page(request: Request, session: SessionDep, pages: PagesDep,
                          pods: PodsDep, received: ReceivedDep, names: NamesDep) -> Response:
    if session is None:
        return web.no_session(request)
    account = session.account
    keys = await pages.pod_of(pods, session)
    if isinstance(keys, Response):
        return keys
    try:
        shown, total = await received.list(keys, account.name, account.webid)
    except PodError as error:
        return pages.problem_page(error.status, "Your statements cannot be shown",
                                  web.sentence(error.detail))
    known = await names.people([s.issuer for s in shown] + [s.subject for s in shown])
    for s in shown:  # the credential's own name for its issuer, where no profile gives one
        if s.issuer and s.issuer_name and s.issuer not in known and s.verified:
            known[s.issuer] = s.issuer_name
    return await pages.session_page(session, "account/statements.html", statements=shown,
                                    total=total, limit=MAX_SHOWN, names=known)
