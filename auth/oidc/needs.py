"""Access needs an app declares (docs/api.md §3): the checks live in :mod:`apps.sdk.needs`,
shared with the SDK so an app and the server never disagree about what is valid; this module
is the server's name for them."""

from apps.sdk.needs import (
    ACT_AS_YOU,
    ACT_AS_YOU_NEED,
    DATA_KINDS,
    MAX_DAYS,
    MAX_NEEDS,
    MODES,
    PROFILE_DOCUMENT,
    AccessNeed,
    NeedError,
    days,
    is_iri,
    parse_agent,
    parse_need,
    parse_needs,
)

__all__ = ["ACT_AS_YOU", "ACT_AS_YOU_NEED", "DATA_KINDS", "MAX_DAYS", "MAX_NEEDS", "MODES",
           "PROFILE_DOCUMENT", "AccessNeed", "NeedError", "days", "is_iri", "parse_agent",
           "parse_need", "parse_needs"]
