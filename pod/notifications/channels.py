"""Notification channels (Solid Notifications Protocol 0.2 §4): what a subscriber asked for,
checked field by field, and the channel the server keeps for it.

A subscription request is JSON-LD in the notification context (§7.1) — the compact form most
clients send — read as JSON with the context named, never fetched (or Turtle, read as the same
terms):
``{"@context": [".../solid/notification/v1"], "type": "WebSocketChannel2023",
"topic": "https://host/alice/notes/", "endAt": "2026-12-08T00:00:00Z"}``; a webhook adds
``"sendTo"``. The features offered are ``endAt`` (the server may end a channel sooner: at most
:data:`MAX_DAYS` days) and ``accept`` (``application/ld+json``, the only form notifications
take). ``startAt``, ``state`` and ``rate`` are refused by name rather than ignored, since a
client relying on them would be misled; other fields are ignored.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import pyoxigraph as ox

from auth.untrusted_json import JSONError, loads
from auth.webhooks import WebhookRefused, check_webhook_url
from pod.access.agent import Agent
from pod.errors import BadRequest, Unprocessable, UnsupportedMediaType
from pod.resources import rdf
from pod.resources.paths import Target, parse_target
from vocab.namespaces import NOTIFICATION_CONTEXT, NOTIFY, RDF, iri_of, node_of

WEBSOCKET = "WebSocketChannel2023"
WEBHOOK = "WebhookChannel2023"
CHANNEL_TYPES = {WEBSOCKET: iri_of(NOTIFY.WebSocketChannel2023),
                 WEBHOOK: iri_of(NOTIFY.WebhookChannel2023)}
"""The channel types offered, by the short name the notification context gives them."""
MEDIA_TYPE = "application/ld+json"
MAX_BODY = 8192
"""A subscription request is a few hundred bytes; larger is refused (413 at the edge)."""
MAX_DAYS = 14
DEFAULT_SECONDS = {WEBSOCKET: 86_400.0, WEBHOOK: MAX_DAYS * 86_400.0}
"""How long a channel lasts when the request names no ``endAt``: a socket's a day, a
webhook's the longest offered."""
ANONYMOUS_SECONDS = 3_600.0
"""An anonymous subscriber's channel (a socket on a public resource) lasts at most an hour."""
_REFUSED = {"startAt", "state", "rate", "receiveFrom", "id"}
_TERMS = {name: ox.NamedNode(iri_of(NOTIFY[name]))
          for name in ("topic", "sendTo", "endAt", "accept", "startAt", "state", "rate",
                       "receiveFrom")}
_RDF_TYPE = node_of(RDF.type)
ACCEPT_POST = f"{MEDIA_TYPE}, {rdf.TURTLE}"


@dataclass(frozen=True, slots=True)
class Request:
    """A subscription request, checked: the channel type's short name, the topic's URL and
    target, the webhook URL (webhooks only) and the end the subscriber asked for, if any."""

    type: str
    topic: str
    target: Target
    send_to: str | None = None
    end_at: float | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel the server keeps: its id (in the channel's URL), its type, topic and the
    pod instance the topic was in when it was made (a pod deleted and made again under the
    same name is another pod: its changes are not told), who subscribed (the agent whose
    read access is decided again at every notification), when it ends, and where it
    delivers — a webhook URL, or for a socket the hash of the secret in its ``receiveFrom``
    URL (the secret itself is never stored)."""

    id: str
    type: str
    topic: str
    pod: str
    path: str
    instance: str
    agent: Agent
    created: float
    end_at: float
    send_to: str | None = None
    receive_hash: str | None = None
    subscriber_instance: str | None = None
    """For a subscriber with a WebID on this server: the instance of their pod when they
    subscribed; the channel ends when that account or pod is gone (its name may be taken
    again by someone else)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> Target:
        return Target(self.pod, self.path)

    def live(self, now: float) -> bool:
        return now < self.end_at

    def to_json(self) -> dict[str, Any]:
        found = asdict(self)
        found["agent"] = {k: v for k, v in asdict(self.agent).items() if v is not None}
        return {k: v for k, v in found.items() if v not in (None, {})}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Channel:
        """A kept channel; fields this version does not know (a newer one wrote them) are
        kept in ``extra``, not refused."""
        known = {f.name for f in fields(cls)} - {"agent", "extra"}
        agent_fields = {f.name for f in fields(Agent)}
        agent = {k: v for k, v in data.get("agent", {}).items() if k in agent_fields}
        extra = {k: v for k, v in data.items() if k not in known | {"agent", "extra"}}
        return cls(**{k: v for k, v in data.items() if k in known}, agent=Agent(**agent),
                   extra={**data.get("extra", {}), **extra})


def receive_hash(secret: str) -> str:
    """What a socket channel keeps of its secret: finding a channel by the hash of what a
    client presents compares no secret byte by byte."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def new_id() -> str:
    return secrets.token_hex(16)


def parse_request(body: bytes, content_type: str | None, base_url: str, kind: str, *,
                  allow_private: bool, now: float | None = None) -> Request:
    """The subscription request in ``body`` POSTed to the subscription service of channel
    type ``kind``; raises 415 for another media type, 400 for what is not JSON, 422 for what
    this server cannot honour (each saying why)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media == rdf.TURTLE:
        found = _from_turtle(body, base_url)
    elif media in (MEDIA_TYPE, "application/json"):
        try:
            found = loads(body)
        except (JSONError, UnicodeDecodeError, ValueError) as exc:
            raise BadRequest(f"the subscription request is not JSON: {exc}") from None
        if not isinstance(found, dict):
            raise BadRequest("the subscription request must be a JSON object")
    else:
        raise UnsupportedMediaType("a subscription request is JSON-LD (application/ld+json) "
                                   "or Turtle", headers={"Accept-Post": ACCEPT_POST})
    _context(found.get("@context"))
    refused = sorted(_REFUSED & found.keys())
    if refused:
        raise Unprocessable(f"this server does not offer {', '.join(refused)} on channels; "
                            "it offers endAt and accept")
    # other fields are ignored, as a JSON-LD processor ignores terms it does not know
    if _type(found.get("type", found.get("@type"))) != kind:
        raise Unprocessable(f"this subscription service makes {kind} channels: send "
                            f'"type": "{kind}" (the other is at the other service)')
    topic, target = _topic(found.get("topic"), base_url)
    accept = found.get("accept")
    if accept is not None and accept != MEDIA_TYPE:
        raise Unprocessable(f"notifications are sent as {MEDIA_TYPE} only")
    send_to = found.get("sendTo")
    if kind == WEBHOOK:
        if not isinstance(send_to, str):
            raise Unprocessable("a WebhookChannel2023 subscription names its sendTo URL")
        try:
            check_webhook_url(send_to, allow_private=allow_private)
        except WebhookRefused as refused_url:
            raise Unprocessable(f"sendTo: {refused_url}") from None
        if send_to.startswith(base_url):
            raise Unprocessable("sendTo may not be on this server")
    elif send_to is not None:
        raise Unprocessable("a WebSocketChannel2023 channel has no sendTo: notifications "
                            "come on the socket at its receiveFrom URL")
    end_at = _end(found.get("endAt"), time.time() if now is None else now)
    return Request(kind, topic, target, send_to, end_at)


def _from_turtle(body: bytes, base_url: str) -> dict[str, Any]:
    """A subscription request in Turtle, as the JSON-LD terms it states: the one subject
    naming a ``notify:topic``, its type and its other fields."""
    triples = rdf.parse(body, rdf.TURTLE, base_url)
    subjects = {t.subject for t in triples if t.predicate == _TERMS["topic"]}
    if len(subjects) != 1:
        raise Unprocessable("a subscription request names one channel with one notify:topic")
    [me] = subjects
    found: dict[str, Any] = {"@context": NOTIFICATION_CONTEXT}
    for t in triples:
        value = t.object.value if isinstance(t.object, ox.NamedNode | ox.Literal) else None
        if t.subject != me or value is None:
            continue
        if t.predicate == _RDF_TYPE and value in CHANNEL_TYPES.values():
            found["type"] = value
        for term, predicate in _TERMS.items():
            if t.predicate == predicate:
                found[term] = value
    return found


def _context(context: object) -> None:
    names = context if isinstance(context, list) else [context]
    if NOTIFICATION_CONTEXT not in names:
        raise Unprocessable(f'a subscription request is JSON-LD in the context '
                            f'"{NOTIFICATION_CONTEXT}" (name it in "@context")')


def _type(value: object) -> str | None:
    """The short name of a channel type given as a term, a ``notify:`` CURIE or an IRI."""
    if not isinstance(value, str):
        return None
    for name, iri in CHANNEL_TYPES.items():
        if value in (name, iri, f"notify:{name}"):
            return name
    return None


def _topic(value: object, base_url: str) -> tuple[str, Target]:
    if not isinstance(value, str) or not value.startswith(base_url):
        raise Unprocessable(f"the topic must be the URL of a resource on this server "
                            f"(starting {base_url})")
    rest = value[len(base_url):]
    if "?" in rest or "#" in rest or not rest:
        raise Unprocessable("the topic must be a resource's URL, without query or fragment")
    target = parse_target("/" + rest)
    canonical = f"{base_url}{target.pod}{target.path}"
    return canonical, target


def _end(value: object, now: float) -> float | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unprocessable("endAt is an xsd:dateTime, e.g. 2026-12-08T00:00:00Z")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise Unprocessable(f"endAt {value!r} is not an xsd:dateTime") from None
    if when.tzinfo is None:
        raise Unprocessable("endAt needs a time zone (e.g. a trailing Z)")
    at = when.timestamp()
    if at <= now:
        raise Unprocessable("endAt is in the past")
    return at


def iso(at: float) -> str:
    """A Unix time as an xsd:dateTime in UTC, to the second."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
