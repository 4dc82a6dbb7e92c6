"""The Commonpod SDK: build apps on members' pods without the server (docs/sdk.md).

Async first (httpx), with :class:`SyncPodClient` for scripts. It imports neither the server
nor a web framework.

- sign in: :func:`client_credentials`, :class:`CodeFlow` → :class:`Session` (DPoP, renewed
  before expiry); :func:`register_client`
- read and write: :class:`PodClient` (get/head/put/post/patch/delete, ETags, RDF as
  :class:`Graph`, :class:`N3Patch`), :meth:`PodClient.collect` for a class in one request
- Commonpod's classes: :class:`Contribution`, :class:`Appreciation`,
  :class:`RewardStatement`, :class:`ReputationStatement`
- consent: :func:`access_need`, :class:`ClientIdDocument`, :func:`publish_client_document`,
  :meth:`PodClient.grants`, :func:`verify_grant_event`
- statements: :mod:`apps.sdk.statements` (sign, verify, builders), :func:`publish_key`,
  :class:`HttpResolver`
- live notifications: :meth:`PodClient.subscribe`, :meth:`PodClient.listen` →
  :class:`Notification`; :class:`Channel`
- many members at once: :class:`Community`
- errors: :mod:`apps.sdk.errors`
"""

from apps.sdk.client import PodClient
from apps.sdk.community import Community, MemberResult
from apps.sdk.consent import (
    ClientIdDocument,
    Grant,
    GrantEvent,
    Permission,
    access_need,
    publish_client_document,
    verify_grant_event,
)
from apps.sdk.discovery import IssuerConfiguration, Profile, TypeRegistration
from apps.sdk.dpop import DPoPKey
from apps.sdk.errors import (
    BadRequest,
    Conflict,
    EventError,
    Forbidden,
    InsufficientStorage,
    InvalidResponse,
    LoginError,
    NotFound,
    OAuthError,
    PayloadTooLarge,
    PreconditionFailed,
    ProblemError,
    SdkError,
    ServerError,
    ServiceUnavailable,
    ShapeViolation,
    TooManyRequests,
    TransportError,
    Unauthenticated,
    Unprocessable,
    UnverifiedStatement,
)
from apps.sdk.login import CodeFlow, Session, client_credentials, register_client
from apps.sdk.needs import AccessNeed, NeedError
from apps.sdk.notifications import Channel, Notification
from apps.sdk.rdf import Graph, N3Patch
from apps.sdk.records import (
    Appreciation,
    Contribution,
    Effort,
    EvidenceItem,
    Record,
    ReputationStatement,
    RewardStatement,
)
from apps.sdk.resources import Collected, Resource
from apps.sdk.retry import NO_RETRY, Retry
from apps.sdk.statements.publish import publish_key
from apps.sdk.statements.resolve import HttpResolver
from apps.sdk.sync import SyncPodClient

__all__ = [
    "NO_RETRY", "AccessNeed", "Appreciation", "BadRequest", "Channel", "ClientIdDocument",
    "CodeFlow",
    "Collected", "Community", "Conflict", "Contribution", "DPoPKey", "Effort", "EventError",
    "EvidenceItem", "Forbidden", "Grant", "GrantEvent", "Graph", "HttpResolver",
    "InsufficientStorage", "InvalidResponse", "IssuerConfiguration", "LoginError",
    "MemberResult", "N3Patch", "NeedError", "NotFound", "Notification", "OAuthError",
    "PayloadTooLarge",
    "Permission", "PodClient", "PreconditionFailed", "ProblemError", "Profile", "Record",
    "ReputationStatement", "Resource", "Retry", "RewardStatement", "SdkError", "ServerError",
    "ServiceUnavailable", "Session", "ShapeViolation", "SyncPodClient", "TooManyRequests",
    "TransportError", "TypeRegistration", "Unauthenticated", "Unprocessable",
    "UnverifiedStatement", "access_need", "client_credentials", "publish_client_document",
    "publish_key", "register_client", "verify_grant_event",
]
