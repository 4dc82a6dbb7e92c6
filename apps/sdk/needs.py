"""Access needs: what an app asks of a pod owner, declared in its client metadata, checked
field by field. One implementation: the server (``auth.oidc.needs``) checks registrations and
Client ID Documents with it, and the SDK checks an app's needs with it before publishing.

An app lists its needs in its Client ID Document (Solid-OIDC §5.1) or registration metadata
(RFC 7591 §2 allows extensions) under ``access_needs``; each need names a kind of data (an RDF
class Commonpod knows, resolved to containers through the owner's type index), the modes, a
DPV purpose with a sentence a person understands, and how long. Optional ``agent_webid`` is the
WebID the app uses when it acts as itself (community apps aggregating across pods), and
``grant_webhook`` where it is told of revocations. Anything malformed or unknown is refused
with a :class:`NeedError` naming the field. docs/api.md §3 has examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox

from vocab.namespaces import DPV, FOAF, OBV3, VF, iri_of, namespace_of
from vocab.prefixes import expand
from vocab.purposes import purpose
from vocab.terms import CP

PROFILE_DOCUMENT = iri_of(FOAF.PersonalProfileDocument)
#: kinds of data an app may ask for: class IRI → (what the owner reads, default container)
DATA_KINDS: dict[str, tuple[str, str]] = {
    iri_of(CP.Contribution): ("your contributions", "contributions/"),
    iri_of(CP.RewardStatement): ("your reward badges", "rewards/"),
    iri_of(CP.ReputationStatement): ("your reputation statements", "reputation/"),
    iri_of(VF.Appreciation): ("the thanks you gave others", "appreciations/"),
    iri_of(OBV3.EndorsementCredential): ("your endorsements", "endorsements/"),
    PROFILE_DOCUMENT: ("your profile", "profile/card"),
}
MODES = ("read", "append", "write")
MAX_NEEDS = 20
MAX_DAYS = 365
_DURATION = re.compile(r"P(\d{1,3})([DWMY])")
_UNIT_DAYS = {"D": 1, "W": 7, "M": 30, "Y": 365}
ACT_AS_YOU = "act-as-you"


class NeedError(ValueError):
    """Access needs that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class AccessNeed:
    """One thing an app asks for. ``cls`` is ``None`` for "everything you can" (apps that
    declare no needs: ordinary Solid apps acting as the user)."""

    id: str
    cls: str | None
    modes: tuple[str, ...]
    purpose: str
    description: str
    days: int

    @property
    def what(self) -> str:
        """The kind of data, in words."""
        if self.cls is None:
            return "everything you can read and change in Solid pods, as you"
        return DATA_KINDS[self.cls][0]

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "class": self.cls, "modes": list(self.modes),
                "purpose": self.purpose, "description": self.description,
                "duration": f"P{self.days}D"}


#: the one need of an app that declares none
ACT_AS_YOU_NEED = AccessNeed(ACT_AS_YOU, None, MODES, iri_of(DPV.ServiceProvision),
                             "Work with your data in Solid pods, as you would yourself.", 90)


def days(duration: object) -> int:
    """Days in an ISO 8601 duration of days, weeks, months (30 d) or years (365 d)."""
    match = _DURATION.fullmatch(duration) if isinstance(duration, str) else None
    if match is None:
        raise NeedError(f"duration {duration!r} must be an ISO 8601 duration such as P30D, "
                        "P12W, P6M or P1Y")
    total = int(match[1]) * _UNIT_DAYS[match[2]]
    if not 1 <= total <= MAX_DAYS:
        raise NeedError(f"duration {duration!r} must be between one day and {MAX_DAYS} days")
    return total


def parse_need(raw: object, index: int) -> AccessNeed:
    """One need from its JSON form."""
    where = f"access_needs[{index}]"
    if not isinstance(raw, dict):
        raise NeedError(f"{where} must be an object")
    unknown = set(raw) - {"id", "class", "modes", "purpose", "description", "duration"}
    if unknown:
        raise NeedError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    cls = expand(raw.get("class") or "") if isinstance(raw.get("class"), str) else ""
    if cls not in DATA_KINDS:
        raise NeedError(f"{where}.class {raw.get('class')!r} is not a kind of data Commonpod "
                        "knows; use one of " + ", ".join(sorted(DATA_KINDS)))
    modes = raw.get("modes")
    if not isinstance(modes, list) or not modes or any(m not in MODES for m in modes):
        raise NeedError(f"{where}.modes must be a non-empty list of {', '.join(MODES)}")
    if cls == PROFILE_DOCUMENT and list(modes) != ["read"]:
        raise NeedError(f"{where}: an app may only read the owner's profile")
    found = purpose(asked) if isinstance(asked := raw.get("purpose"), str) else None
    if found is None:
        raise NeedError(f"{where}.purpose {raw.get('purpose')!r} is not a DPV purpose this "
                        f"server knows ({namespace_of(DPV)}…, e.g. dpv:ServiceProvision)")
    text = raw.get("description")
    if not isinstance(text, str) or not 10 <= len(text.strip()) <= 500:
        raise NeedError(f"{where}.description must say in 10 to 500 characters what the "
                        "data is used for")
    need_id = raw.get("id", str(index))
    if not isinstance(need_id, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", need_id):
        raise NeedError(f"{where}.id must be 1 to 64 letters, digits, '.', '_' or '-'")
    return AccessNeed(need_id, cls, tuple(m for m in MODES if m in modes), found.iri,
                      text.strip(), days(raw.get("duration", "P90D")))


def parse_needs(metadata: dict[str, Any]) -> tuple[AccessNeed, ...]:
    """The needs an app declares (none: ordinary Solid app)."""
    raw = metadata.get("access_needs")
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_NEEDS:
        raise NeedError(f"access_needs must be a list of at most {MAX_NEEDS} needs")
    needs = tuple(parse_need(r, i) for i, r in enumerate(raw))
    if len({n.id for n in needs}) != len(needs):
        raise NeedError("access_needs ids must be unique")
    return needs


def is_iri(value: str) -> bool:
    """Whether ``value`` is a valid absolute IRI (RFC 3987), as pyoxigraph checks it."""
    try:
        ox.NamedNode(value)
    except ValueError:
        return False
    return True


def _url(value: object, name: str, *, fragment: bool) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname or \
            (parts.fragment and not fragment) or not is_iri(str(value)):
        raise NeedError(f"{name} must be an absolute http(s) URL")
    return str(value)


def parse_agent(metadata: dict[str, Any], client_id: str | None) -> tuple[str | None, str | None]:
    """The app's own WebID and its grant webhook, checked. The WebID must be served from the
    same origin (and the same first path segment, its pod) as the Client ID Document, so an
    app cannot claim another agent's WebID."""
    webid = metadata.get("agent_webid")
    hook = metadata.get("grant_webhook")
    if webid is not None:
        webid = _url(webid, "agent_webid", fragment=True)
        if client_id is None:
            raise NeedError("agent_webid needs a Client ID Document (Solid-OIDC §5.1), served "
                            "from the same origin and pod as the WebID")
        if not _same_home(webid, client_id):
            raise NeedError("agent_webid must be served from the same origin and pod as the "
                            "Client ID Document")
    if hook is not None:
        hook = _url(hook, "grant_webhook", fragment=False)
    return webid, hook


def _same_home(webid: str, document: str) -> bool:
    """Same origin, and the same first path segment (the pod) unless the WebID is at the
    origin's root (``https://app.example/#me``)."""
    pa, pb = urlsplit(webid), urlsplit(document)
    if (pa.scheme, pa.netloc) != (pb.scheme, pb.netloc):
        return False
    first = pa.path.strip("/").split("/")[0]
    return not first or pb.path.strip("/").split("/")[0] == first
