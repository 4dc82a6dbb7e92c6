"""Provisioning a new pod: root container, WebID profile and default ACLs, in one commit.

Defaults (unlike CSS, the pod root is not public): the owner has full control of everything;
the profile document is publicly readable; everything else is private. ``public_write`` gives
everyone full access, for benchmarks and conformance runs only.
"""

from __future__ import annotations

from dataclasses import dataclass

from pod.resources import rdf
from pod.resources.paths import Target
from pod.resources.service import ResourceService
from pod.store.directory import PodDirectory

PROFILE = "/profile/card"


@dataclass(frozen=True)
class NewPod:
    pod: str
    webid: str


def _acl(owner: str, target: str, *, default: bool, public: str | None) -> str:
    inherit = f"; acl:default <{target}>" if default else ""
    text = (f"<#owner> a acl:Authorization; acl:agent <{owner}>; acl:accessTo <{target}>"
            f"{inherit}; acl:mode acl:Read, acl:Write, acl:Control.\n")
    if public:
        text += (f"<#public> a acl:Authorization; acl:agentClass foaf:Agent; "
                 f"acl:accessTo <{target}>{inherit}; acl:mode {public}.\n")
    return "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n" \
           "@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n" + text


def _profile(pod_url: str, webid: str, name: str) -> str:
    return f"""@prefix foaf: <http://xmlns.com/foaf/0.1/>.
@prefix pim: <http://www.w3.org/ns/pim/space#>.
@prefix solid: <http://www.w3.org/ns/solid/terms#>.
<> a foaf:PersonalProfileDocument; foaf:maker <{webid}>; foaf:primaryTopic <{webid}>.
<{webid}> a foaf:Person; foaf:name "{name}"; pim:storage <{pod_url}>.
"""


async def create_pod(
    directory: PodDirectory, service: ResourceService, name: str, *, public_write: bool = False
) -> NewPod:
    """Register pod ``name`` and write its starting resources atomically."""
    keys = await directory.create(name)
    pod_url = f"{service.base_url}{name}/"
    webid = f"{pod_url}profile/card#me"
    public = "acl:Read, acl:Write, acl:Append, acl:Control" if public_write else None
    docs = [
        ("/", ""),
        ("/.acl", _acl(webid, pod_url, default=True, public=public)),
        (PROFILE, _profile(pod_url, webid, name)),
        (PROFILE + ".acl", _acl(webid, pod_url + PROFILE[1:], default=False,
                                public=public or "acl:Read")),
    ]
    async with service.store.write(keys) as tx:
        for path, body in docs:
            target = Target(name, path)
            await service.write_new(tx, target, body.encode(), rdf.TURTLE)
    return NewPod(pod_url, webid)
