"""The consent screen's side of access needs: each need in plain words, and what the owner
ticked on the form (accept all, some or none; shorten any duration, never lengthen it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auth.consent import Accepted, Consent
from auth.oidc.clients import ClientInfo
from auth.oidc.needs import AccessNeed, NeedError, parse_need
from vocab.purposes import purpose

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


async def need(consent: Consent, pod: str, item: AccessNeed) -> NeedView:
    """How ``item`` reads to the owner of ``pod``."""
    found = purpose(item.purpose)
    return NeedView(item.id, item.what, _words(item.modes),
                    found.label if found else item.purpose, item.purpose, item.description,
                    item.days, choices(item.days), tuple(await consent.targets(pod, item)))


@dataclass(frozen=True)
class Shown:
    """What the consent page showed, kept with the pending request, so that what is granted
    is what the owner saw even if the app's document or the type index changes meanwhile."""

    needs: tuple[AccessNeed, ...]
    where: dict[str, tuple[str, ...]]
    agent_webid: str | None
    client_name: str
    webhook: str | None

    def as_json(self) -> dict[str, Any]:
        return {"needs": [n.as_json() for n in self.needs],
                "where": {k: list(v) for k, v in self.where.items()},
                "agent_webid": self.agent_webid, "client_name": self.client_name,
                "webhook": self.webhook}

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> Shown:
        try:
            return cls(tuple(_need(raw) for raw in kept["needs"]),
                       {k: tuple(v) for k, v in kept["where"].items()}, kept["agent_webid"],
                       kept["client_name"], kept["webhook"])
        except (NeedError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"the request kept for this consent is damaged: {exc}") from None


def shown(info: ClientInfo, views: list[NeedView]) -> Shown:
    """What the consent page shows for ``info``."""
    return Shown(info.asks, {v.id: v.where for v in views}, info.agent_webid,
                 info.client_name, info.webhook)


def _need(raw: dict[str, Any]) -> AccessNeed:
    if raw.get("class") is None:  # "act as you", which no app declares
        return AccessNeed(raw["id"], None, tuple(raw["modes"]), raw["purpose"],
                          raw["description"], int(raw["duration"][1:-1]))
    return parse_need(raw, 0)


def accepted(seen: Shown, form: dict[str, str]) -> list[Accepted]:
    """The needs ticked on the consent form, with the durations chosen."""
    out = []
    for item in seen.needs:
        if form.get(f"need-{item.id}") != "yes":
            continue
        raw = form.get(f"days-{item.id}", str(item.days))
        if not raw.isdigit() or int(raw) not in choices(item.days):
            raise ValueError(f"the duration for {item.what!r} must be one of the choices "
                             "offered, at most what the app asked for")
        out.append(Accepted(item, int(raw), seen.where.get(item.id, ())))
    return out
