"""What a committed write tells each topic (Solid Notifications Protocol §8): Activity
Streams 2.0 activities in JSON-LD.

A resource's own topic hears ``Create``, ``Update`` or ``Delete`` of it (``object``: the
resource, ``state``: its new ETag). Its container's topic hears ``Add`` or ``Remove``
(``object``: the member, ``target``: the container) when a member is created or deleted —
including the containers a deep PUT creates on the way, each a ``Create`` of its own and an
``Add`` to its parent. An auxiliary resource (``.acl``, ``.meta``) is no member: only its own
topic hears of it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pod.resources.paths import Target
from pod.resources.service import CREATE, DELETE, Changed
from vocab.namespaces import ACTIVITY_STREAMS_CONTEXT, NOTIFICATION_CONTEXT

ADD, REMOVE = "Add", "Remove"
CONTEXT = [ACTIVITY_STREAMS_CONTEXT, NOTIFICATION_CONTEXT]


@dataclass(frozen=True, slots=True)
class Activity:
    """One activity for one topic (a resource URL), with the target whose read access decides
    who may hear it (the topic's resource)."""

    topic: str
    target: Target
    body: dict[str, Any]


def topics(base_url: str, changed: Changed) -> list[str]:
    """The URLs of every topic ``changed`` tells something (to see cheaply whether any
    channel listens before building the activities)."""
    return [topic for topic, _ in _steps(base_url, changed)]


def activities(base_url: str, changed: Changed, now: datetime | None = None) -> list[Activity]:
    """The activities of ``changed``, outermost container first."""
    published = (now or datetime.now(UTC)).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")
    out = []
    for topic, (kind, target, obj, state) in _steps(base_url, changed):
        body: dict[str, Any] = {"@context": CONTEXT, "id": f"urn:uuid:{uuid.uuid4()}",
                                "type": kind, "object": obj, "published": published}
        if kind in (ADD, REMOVE):
            body["target"] = topic
        if state is not None:
            body["state"] = state
        out.append(Activity(topic, target, body))
    return out


def _steps(base_url: str, changed: Changed
           ) -> list[tuple[str, tuple[str, Target, str, str | None]]]:
    """(topic, (type, topic's target, object URL, state)) for each activity of ``changed``."""
    target = changed.target

    def url(path: str) -> str:
        return f"{base_url}{target.pod}{path}"

    out: list[tuple[str, tuple[str, Target, str, str | None]]] = []
    for made in changed.made:  # containers a deep write created, outermost first
        parent = target.with_path(made).parent
        if parent is not None:
            out.append((url(parent), (ADD, target.with_path(parent), url(made), None)))
        out.append((url(made), (CREATE, target.with_path(made), url(made), None)))
    own = url(target.path)
    if changed.kind in (CREATE, DELETE) and not target.aux and target.parent is not None:
        out.append((url(target.parent), (ADD if changed.kind == CREATE else REMOVE,
                                         target.with_path(target.parent), own, None)))
    out.append((own, (changed.kind, target, own, changed.state)))
    return out
