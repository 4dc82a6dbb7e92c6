"""The consent screen's side of access needs: each need in plain words, and what the owner
ticked on the form (accept all, some or none; shorten any duration, never lengthen it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auth.consent import Accepted, targets
from auth.oidc.clients import ClientInfo
from auth.oidc.needs import AccessNeed, NeedError, parse_need
from vocab.purposes import purpose

if TYPE_CHECKING:
    from pod.runtime import Runtime

MODE_WORDS = {"read": "read", "append": "add to", "write": "change and delete"}
SHORTER = (365, 180, 90, 30, 7, 1)


@dataclass(frozen=True)
class NeedView:
    """One need as the consent page shows it."""

    id: str
    what: str
    modes: str
    purpose: str
    purpose_iri: str
    description: str
    days: int
    choices: tuple[int, ...]
    where: tuple[str, ...]


def choices(days: int) -> tuple[int, ...]:
    """Durations the owner may pick: the app's, or shorter."""
    return (days, *(d for d in SHORTER if d < days))


def _words(modes: tuple[str, ...]) -> str:
    words = [MODE_WORDS[m] for m in modes]
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


async def need(rt: Runtime, pod: str, item: AccessNeed) -> NeedView:
    """How ``item`` reads to the owner of ``pod``."""
    found = purpose(item.purpose)
    return NeedView(item.id, item.what, _words(item.modes),
                    found.label if found else item.purpose, item.purpose, item.description,
                    item.days, choices(item.days), tuple(await targets(rt, pod, item)))


def shown(info: ClientInfo) -> dict[str, Any]:
    """What the consent page shows, kept with the pending request: the needs and the app's
    own WebID as they were when the owner looked."""
    return {"needs": [n.as_json() for n in info.asks], "agent_webid": info.agent_webid}


def unshown(kept: dict[str, Any]) -> tuple[tuple[AccessNeed, ...], str | None]:
    """The needs and app WebID the owner was shown (see :func:`shown`)."""
    try:
        needs = tuple(_need(raw) for raw in kept.get("needs", []))
    except (NeedError, KeyError, TypeError) as exc:
        raise ValueError(f"the request kept for this consent is damaged: {exc}") from None
    return needs, kept.get("agent_webid")


def _need(raw: dict[str, Any]) -> AccessNeed:
    if raw.get("class") is None:  # "act as you", which no app declares
        return AccessNeed(raw["id"], None, tuple(raw["modes"]), raw["purpose"],
                          raw["description"], int(raw["duration"][1:-1]))
    return parse_need(raw, 0)


def accepted(needs: tuple[AccessNeed, ...], form: dict[str, str]) -> list[Accepted]:
    """The needs ticked on the consent form, with the durations chosen."""
    out = []
    for item in needs:
        if form.get(f"need-{item.id}") != "yes":
            continue
        raw = form.get(f"days-{item.id}", str(item.days))
        if not raw.isdigit() or int(raw) not in choices(item.days):
            raise ValueError(f"the duration for {item.what!r} must be one of the choices "
                             "offered, at most what the app asked for")
        out.append(Accepted(item, int(raw)))
    return out
