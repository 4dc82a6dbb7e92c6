"""How pages show values to a person: times in words, sizes, names for IRIs.

Installed in the templates' environment by :func:`install` (``pod.app.templates``) as filters
— ``when``, ``ago``, ``exact``, ``size``, ``iri_name``, ``iri_link`` — so handlers hand
templates plain values (datetimes, ISO strings, byte counts, IRIs) and names they know (profile
names, client names) as a mapping from IRI to name. Both edges (``pod.http``, ``auth.http``)
may use the functions directly; this module knows no web framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from jinja2 import Environment
from markupsafe import Markup

from vocab.namespaces import ACL, LDP, PIM, SEC, VCARD, namespace_of
from vocab.prefixes import PREFIXES

Moment = datetime | str | int | float
"""A time as pages get it: a datetime, an ISO 8601 string, or seconds since the epoch."""

_UNITS = ("KB", "MB", "GB", "TB")
_NAMESPACES = {**PREFIXES, **{prefix: namespace_of(ns) for prefix, ns in (
    ("ldp", LDP), ("acl", ACL), ("pim", PIM), ("vcard", VCARD), ("sec", SEC))}}
_PRONOUN_FRAGMENTS = {"me", "i", "this", "it", "id"}


def instant(value: Moment) -> datetime | None:
    """``value`` as an aware datetime (UTC when it names no zone), or None if unreadable."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ago(value: Moment, now: datetime | None = None) -> str:
    """How long ago ``value`` was, in words ("just now", "3 minutes ago", "yesterday"); a
    date once it is more than a week away (or in the future by more than a minute)."""
    moment = instant(value)
    if moment is None:
        return str(value)
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if -60 < seconds < 45:
        return "just now"
    if seconds < 0 or seconds >= 7 * 86400:
        return exact(moment, with_time=False)
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60)):
        count = round(seconds / length) if length == 60 else int(seconds // length)
        if count >= 1:
            if unit == "day" and count == 1:
                return "yesterday"
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "1 minute ago"


def exact(value: Moment, with_time: bool = True) -> str:
    """The exact date (and time, UTC) of ``value``: "6 Dec 2026, 15:26 UTC"."""
    moment = instant(value)
    if moment is None:
        return str(value)
    moment = moment.astimezone(UTC)
    day = f"{moment.day} {moment:%b %Y}"
    return f"{day}, {moment:%H:%M} UTC" if with_time else day


def when(value: Moment | None, now: datetime | None = None) -> Markup:
    """A ``<time>`` element: the words of :func:`ago`, the exact time as its title and
    ``datetime`` (the small page script shows it in the reader's own zone)."""
    if value is None or value == "":
        return Markup('<span class="muted">never</span>')
    moment = instant(value)
    if moment is None:
        return Markup("{}").format(value)
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(timespec="seconds"), exact(moment), ago(moment, now))


def size(count: int | float | None) -> str:
    """A byte count for a person: "512 bytes", "1.5 KB", "12 MB" (units of 1024)."""
    if count is None:
        return "—"
    amount = float(count)
    if amount < 1024:
        return f"{int(amount)} byte{'s' if int(amount) != 1 else ''}"
    step = 0
    amount /= 1024
    while amount >= 1024 and step < len(_UNITS) - 1:
        amount, step = amount / 1024, step + 1
    return f"{amount:.1f} {_UNITS[step]}" if amount < 10 else f"{amount:.0f} {_UNITS[step]}"


def iri_name(iri: str | None, names: Mapping[str, str] | None = None) -> str:
    """A name for ``iri``: the one ``names`` knows (a profile name, a client name), else the
    fragment (unless it says "me"), else the last segment of its path — a file or folder
    name — else its host."""
    if not iri:
        return ""
    known = (names or {}).get(iri)
    if known:
        return known
    parts = urlsplit(iri)
    if parts.fragment and parts.fragment.lower() not in _PRONOUN_FRAGMENTS:
        return unquote(parts.fragment)
    segments = [s for s in parts.path.split("/") if s]
    if parts.fragment and len(segments) >= 2 and segments[-1] in ("card", "profile"):
        segments = segments[:1]  # a WebID like /alice/profile/card#me: the pod's name
    if segments:
        last = unquote(segments[-1])
        return last + "/" if parts.path.endswith("/") else last
    return parts.netloc or iri


def iri_link(iri: str | None, names: Mapping[str, str] | None = None) -> Markup:
    """A link to ``iri`` showing its name (:func:`iri_name`), the IRI itself as the title."""
    if not iri:
        return Markup('<span class="muted">—</span>')
    return Markup('<a href="{}" title="{}" class="iri">{}</a>').format(
        iri, iri, iri_name(iri, names))


def compact(iri: str) -> str | None:
    """``prefix:name`` for an IRI in a namespace the pages know, else None."""
    for prefix, namespace in _NAMESPACES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return None


def term(iri: str, document: str = "", names: Mapping[str, str] | None = None) -> str:
    """How a statement's IRI reads in a table: a known name, ``prefix:name``, ``#part`` of
    the ``document`` shown, else :func:`iri_name`."""
    known = (names or {}).get(iri)
    if known:
        return known
    if document and iri.startswith(document + "#"):
        return iri[len(document):]
    return compact(iri) or iri_name(iri)


def install(env: Environment) -> Environment:
    """Add the filters pages use to ``env``; returns it."""
    env.filters.update(when=when, ago=ago, exact=exact, size=size, iri_name=iri_name,
                       iri_link=iri_link, term=term)
    return env


__all__ = ["Moment", "ago", "exact", "install", "instant", "iri_link", "iri_name",
           "size", "when"]
