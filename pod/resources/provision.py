"""Provisioning a new pod: root container, WebID profile and default ACLs, in one commit.

Defaults (unlike CSS, the pod root is not public): the owner has full control of everything;
the WebID profile and the public type index are publicly readable; any authenticated agent may
append to the inbox (to notify the owner); everything else, the preferences file and the
private type index included, is private. Private containers are registered in the private type
index: ``contributions/`` for ``cp:Contribution``, ``appreciations/`` for ``vf:Appreciation``,
``rewards/`` and ``reputation/`` for reward and reputation statements, and ``grants/`` for the
owner's access grants — owner-only by its own ACL, even in a publicly writable pod. The profile
names this server as the OIDC issuer. ``public_write`` gives everyone full access (except to
``grants/``), for benchmarks and conformance runs only.
"""

from __future__ import annotations

from dataclasses import dataclass

from pod.resources import rdf, usage
from pod.resources.paths import Target
from pod.resources.service import ResourceService
from pod.store.directory import PodDirectory
from vocab.namespaces import ACL, FOAF, LDP, PIM, SCHEMA_HTTP, SOLID, VF, iri_of, namespace_of
from vocab.terms import CP

PROFILE = "/profile/card"
#: private containers of a new pod, registered in the private type index for these classes
REGISTERED = {
    "contributions/": iri_of(CP.Contribution),
    "appreciations/": iri_of(VF.Appreciation),
    "rewards/": iri_of(CP.RewardStatement),
    "reputation/": iri_of(CP.ReputationStatement),
    "grants/": iri_of(CP.AccessGrant),
}
_ACL, _FOAF, _LDP = namespace_of(ACL), namespace_of(FOAF), namespace_of(LDP)
_PIM, _SCHEMA, _SOLID = namespace_of(PIM), namespace_of(SCHEMA_HTTP), namespace_of(SOLID)


@dataclass(frozen=True)
class NewPod:
    pod: str
    webid: str


def _acl(owner: str, target: str, *, default: bool, public: str | None,
         authenticated: str | None = None) -> str:
    inherit = f"; acl:default <{target}>" if default else ""
    text = (f"<#owner> a acl:Authorization; acl:agent <{owner}>; acl:accessTo <{target}>"
            f"{inherit}; acl:mode acl:Read, acl:Write, acl:Control.\n")
    if public:
        text += (f"<#public> a acl:Authorization; acl:agentClass foaf:Agent; "
                 f"acl:accessTo <{target}>{inherit}; acl:mode {public}.\n")
    if authenticated:
        text += (f"<#authenticated> a acl:Authorization; acl:agentClass acl:AuthenticatedAgent; "
                 f"acl:accessTo <{target}>{inherit}; acl:mode {authenticated}.\n")
    return f"@prefix acl: <{_ACL}>.\n@prefix foaf: <{_FOAF}>.\n" + text


def _profile(pod_url: str, webid: str, name: str, issuer: str) -> str:
    return f"""@prefix foaf: <{_FOAF}>.
@prefix ldp: <{_LDP}>.
@prefix pim: <{_PIM}>.
@prefix schema: <{_SCHEMA}>.
@prefix solid: <{_SOLID}>.
<> a foaf:PersonalProfileDocument; foaf:maker <{webid}>; foaf:primaryTopic <{webid}>.
<{webid}> a foaf:Person, schema:Person;
    foaf:name "{name}";
    solid:oidcIssuer <{issuer}>;
    pim:storage <{pod_url}>;
    ldp:inbox <{pod_url}inbox/>;
    pim:preferencesFile <{pod_url}settings/prefs.ttl>;
    solid:publicTypeIndex <{pod_url}settings/publicTypeIndex.ttl>.
"""


def _type_index(listed: bool, registrations: dict[str, str] | None = None) -> str:
    """A type index (Solid Type Indexes); ``registrations`` maps a class IRI to a container."""
    kind = "ListedDocument" if listed else "UnlistedDocument"
    text = f"@prefix solid: <{_SOLID}>.\n<> a solid:TypeIndex, solid:{kind}.\n"
    for i, (cls, container) in enumerate((registrations or {}).items()):
        text += (f"<#registration-{i}> a solid:TypeRegistration; solid:forClass <{cls}>; "
                 f"solid:instanceContainer <{container}>.\n")
    return text


def _preferences(pod_url: str, webid: str) -> str:
    return f"""@prefix pim: <{_PIM}>.
@prefix solid: <{_SOLID}>.
<> a pim:ConfigurationFile.
<{webid}> solid:privateTypeIndex <{pod_url}settings/privateTypeIndex.ttl>.
"""


def _documents(base_url: str, name: str, public_write: bool) -> list[tuple[str, str]]:
    """What a new pod starts with: (path, Turtle) of every resource, root first."""
    pod_url = f"{base_url}{name}/"
    webid = f"{pod_url}profile/card#me"
    everyone = "acl:Read, acl:Write, acl:Append, acl:Control" if public_write else None
    return [
        ("/", ""),
        ("/.acl", _acl(webid, pod_url, default=True, public=everyone)),
        (PROFILE, _profile(pod_url, webid, name, base_url)),
        (PROFILE + ".acl", _acl(webid, pod_url + PROFILE[1:], default=False,
                                public=everyone or "acl:Read")),
        ("/inbox/", ""),
        ("/inbox/.acl", _acl(webid, pod_url + "inbox/", default=True, public=everyone,
                             authenticated=None if everyone else "acl:Append")),
        ("/settings/prefs.ttl", _preferences(pod_url, webid)),
        *(("/" + container, "") for container in REGISTERED),
        ("/grants/.acl", _acl(webid, pod_url + "grants/", default=True, public=None)),
        ("/settings/privateTypeIndex.ttl", _type_index(listed=False, registrations={
            cls: pod_url + container for container, cls in REGISTERED.items()})),
        ("/settings/publicTypeIndex.ttl", _type_index(listed=True)),
        ("/settings/publicTypeIndex.ttl.acl", _acl(
            webid, pod_url + "settings/publicTypeIndex.ttl", default=False,
            public=everyone or "acl:Read")),
    ]


#: the paths of what a new pod starts with (and the containers made for them): a pod holding
#: nothing else is new, and an import may replace it
STARTING_PATHS = frozenset({path for path, _ in _documents("https://pod.invalid/x/", "x", False)}
                           | {"/profile/", "/settings/"})


async def create_pod(
    directory: PodDirectory, service: ResourceService, name: str, *, public_write: bool = False
) -> NewPod:
    """Register pod ``name`` and write its starting resources atomically."""
    keys = await directory.create(name)
    pod_url = f"{service.base_url}{name}/"
    webid = f"{pod_url}profile/card#me"
    change = usage.Change()
    async with service.store.write(keys) as tx:
        for path, body in _documents(service.base_url, name, public_write):
            target = Target(name, path)
            await service.write_new(tx, target, body.encode(), rdf.TURTLE, change)
        await usage.start(tx, change)
    return NewPod(pod_url, webid)
