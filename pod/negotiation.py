"""Proactive content negotiation (RFC 9110 §12.5.1): ``Accept`` with q-values."""

from __future__ import annotations

from pod.errors import NotAcceptable


def media_type(header: str | None) -> str | None:
    """The bare, lowercased media type of a ``Content-Type`` header."""
    if not header:
        return None
    return header.split(";", 1)[0].strip().lower() or None


def _ranges(accept: str) -> list[tuple[str, float, int]]:
    out = []
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        if not kind:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        specificity = 0 if kind == "*/*" else 1 if kind.endswith("/*") else 2
        out.append((kind.lower(), q, specificity))
    return out


def quality(ranges: list[tuple[str, float, int]], offer: str) -> float:
    """The q-value the most specific matching range gives ``offer``."""
    best, best_spec = 0.0, -1
    major = offer.split("/", 1)[0] + "/*"
    for kind, q, spec in ranges:
        if (kind in (offer, major) or kind == "*/*") and spec > best_spec:
            best, best_spec = q, spec
    return best


def choose(accept: str | None, offers: tuple[str, ...] | list[str]) -> str:
    """The best of ``offers`` (first wins ties); raises 406 when none is acceptable."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = _ranges(accept)
    scored = [(quality(ranges, o), -i, o) for i, o in enumerate(offers)]
    q, _, best = max(scored)
    if q <= 0:
        raise NotAcceptable(f"none of {', '.join(offers)} is acceptable")
    return best


def prefers_over(accept: str | None, offer: str, others: tuple[str, ...]) -> bool:
    """Whether ``accept`` names ``offer`` itself and ranks it above every one of ``others``
    (``*/*`` alone, or no ``Accept``, prefers nothing)."""
    if not accept or offer not in accept:
        return False
    ranges = _ranges(accept)
    wanted = quality(ranges, offer)
    return wanted > 0 and all(wanted > quality(ranges, o) for o in others)


def prefers_html(accept: str | None) -> bool:
    """Whether a client (a browser) asks for HTML over JSON."""
    if not accept or "text/html" not in accept:
        return False
    ranges = _ranges(accept)
    return quality(ranges, "text/html") > quality(ranges, "application/json")
