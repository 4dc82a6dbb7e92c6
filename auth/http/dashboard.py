"""What the dashboard (``/.account/``) shows: storage used, recent accesses, apps allowed,
statements received, what was shared with the person, and what to do next.

Every part is read as the owner reads their own pod (their WebID, directly), from the same
services as the pages that show each part in full; people and apps are named by their
profiles and client documents where those say a name.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from auth.consent import Consent
from auth.oidc.clients import Clients
from auth.people import People
from auth.sessions import Session
from pod.access.agent import Agent
from pod.access.audit import AccessLog
from pod.access.reading import ReadService
from pod.errors import PodError
from pod.resources.paths import Target
from pod.resources.provision import STARTING_PATHS
from pod.resources.service import ResourceService
from pod.store.directory import PodDirectory

RECENT = 5
STATEMENT_CONTAINERS = ("/rewards/", "/reputation/")
"""Where statements others give the owner arrive (registered in a new pod's type index)."""


async def _names(people: People, clients: Clients, webids: set[str], apps: set[str]
                 ) -> dict[str, str]:
    """Names of people (their profiles) and apps (their client documents), where known."""
    async def app_name(client_id: str) -> str | None:
        found = await clients.find(client_id)
        return (found.client_name or None) if found else None

    people_found = await asyncio.gather(*(people.name(w) for w in sorted(webids)))
    apps_found = await asyncio.gather(*(app_name(a) for a in sorted(apps)))
    named = zip([*sorted(webids), *sorted(apps)], [*people_found, *apps_found], strict=True)
    return {iri: name for iri, name in named if name}


async def dashboard(session: Session, pods: PodDirectory, reads: ReadService,
                    resources: ResourceService, log: AccessLog, consents: Consent,
                    people: People, clients: Clients) -> dict[str, Any]:
    """The dashboard's context for the signed-in person."""
    account = session.account
    keys = await pods.find(account.name)
    if keys is None:
        return {"pod_missing": True}
    used, quota = await resources.usage(keys)
    now = time.time()
    grants = [g for g in await consents.grants(account.name) if g.active(now)]
    records = await log.query(keys, limit=RECENT)
    me = Agent(webid=account.webid)
    statements = 0
    for path in STATEMENT_CONTAINERS:
        try:
            found = await reads.get(keys, Target(account.name, path), me)
        except PodError:
            continue
        statements += len(found.members) if found.resource is not None else 0
    names = await _names(people, clients, {r.agent for r in records if r.agent},
                         {a for g in grants for a in g.apps}
                         | {r.app for r in records if r.app})
    return {
        "usage": {"bytes": used.bytes, "resources": used.resources,
                  "max_bytes": quota.bytes, "max_resources": quota.resources},
        "recent": [{"at": r.at, "agent": r.agent, "app": r.app, "target": r.target,
                    "mode": r.mode, "allowed": r.allowed, "requests": r.requests,
                    "reads": r.reads}
                   for r in records],
        "apps": [{"title": g.title, "apps": sorted(g.apps), "issued": g.issued,
                  "until": max((p.until for p in g.permissions), default=None)}
                 for g in grants],
        "statements": statements,
        "names": names,
        "new_account": used.resources <= len(STARTING_PATHS) and not grants,
    }
