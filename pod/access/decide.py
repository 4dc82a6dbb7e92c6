"""The access decision: which modes an agent has, and whether a request may proceed.

For a resource, the effective ACL is its own ``.acl`` (``acl:accessTo``) or else the nearest
ancestor container's ``.acl`` (``acl:default``) — WAC §5 "ACL Resolution". Parsed ACLs are
cached by their sealed version, so an ACL change takes effect on the very next request. The
pod owner always holds Control, so no ACL edit can lock them out of their own pod.

``acl:agentGroup`` membership is asked of ``is_member``, a callback wired in at start-up (the
authentication layer reads group documents, local or remote); without it groups grant nothing.
Groups are asked only when they could add a mode.

Apps are bounded by the owner's consent (``pod.access.grants``). An app acting for the pod's
owner gets at most WAC ∩ the owner's grants to that app; acting for another user of this
server, at most WAC ∩ that user's full-access grant to it; an app may always do what anyone may.
An agent acting as itself (its own WebID, no app in between) gets WAC ∪ the grants the owner
gave that WebID. No app ever gets Control, or anything under ``/grants/``; grants never give
more than Read on the owner's profile and settings.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import NoReturn

from pod.access import wac
from pod.access.agent import ANONYMOUS, Agent
from pod.access.grants import GRANTS, Grant, Granted, GrantIndex, app_iri, granted
from pod.access.modes import Mode, Need
from pod.errors import Forbidden, Unauthenticated
from pod.resources import membership, rdf
from pod.resources.paths import ACL_SUFFIX, Target
from pod.resources.records import CONTAINER, RDF, Resource
from pod.resources.service import load
from pod.store.sealed import Opened, PodKeys, SealedReader, SealedStore

CACHE_SIZE = 4096
CHALLENGE = 'DPoP algs="ES256 ES384 PS256 RS256 EdDSA"'

IsMember = Callable[[str, str], Awaitable[bool]]
"""``await is_member(group_iri, webid)``: does the group's document list the WebID?"""
FindPod = Callable[[str], Awaitable[PodKeys | None]]
PROFILE = "/profile/card#me"
OWNER_DOCUMENTS = ("/profile/", "/settings/")


class AccessDecider:
    """Answers "may this agent do this?" from the ACL resources in the sealed store."""

    def __init__(self, base_url: str, is_member: IsMember | None = None, *,
                 store: SealedStore | None = None, find_pod: FindPod | None = None):
        self.base_url = base_url
        self.is_member = is_member
        self.grant_index = GrantIndex()
        self._store, self._find_pod = store, find_pod
        self._cache: OrderedDict[tuple[bytes, str, bytes], list[wac.Authorization]] = (
            OrderedDict())

    def owner(self, pod: str) -> str:
        return f"{self.base_url}{pod}/profile/card#me"

    async def _effective(
        self, reader: SealedReader, keys: PodKeys, target: Target
    ) -> tuple[list[wac.Authorization], str, bool]:
        """The authorizations of the effective ACL, the URL they apply to, inherited or not."""
        path: str | None = target.path
        inherited = False
        while path is not None:
            acl_path = path + ACL_SUFFIX
            opened = await reader.get(acl_path)
            if opened is not None:
                auths = self._parsed(keys, target, acl_path, opened)
                return auths, f"{self.base_url}{target.pod}{path}", inherited
            path, inherited = target.with_path(path).parent, True
        return [], "", False

    def _parsed(self, keys: PodKeys, target: Target, acl_path: str, opened: Opened
                ) -> list[wac.Authorization]:
        key = (keys.pod_id, acl_path, opened.version)
        auths = self._cache.get(key)
        if auths is None:
            res = Resource.decode(opened.data, opened.version)
            url = f"{self.base_url}{target.pod}{acl_path}"
            auths = wac.parse_acl(rdf.parse(res.body, res.content_type, url))
            self._cache[key] = auths
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return auths

    async def modes(
        self, reader: SealedReader, keys: PodKeys, target: Target, agents: tuple[Agent, ...],
        used: list[str] | None = None,
    ) -> list[set[Mode]]:
        """The modes each of ``agents`` holds on ``target``; the IRIs of grants that gave
        modes are appended to ``used``."""
        auths, url, inherited = await self._effective(reader, keys, target)
        owner = self.owner(target.pod)
        out = []
        for agent in agents:
            modes = wac.granted(auths, agent, url, inherited)
            if self.is_member is not None:
                groups = wac.groups_to_ask(auths, agent, url, inherited, modes)
                if groups:
                    member = [g for g in groups if await self.is_member(g, agent.webid or "")]
                    modes = wac.granted(auths, agent, url, inherited, member)
            if agent.webid is not None and agent.webid == owner:
                modes.add(Mode.CONTROL)
            if agent.app is not None or (agent.webid is not None and agent.webid != owner):
                public = wac.granted(auths, ANONYMOUS, url, inherited) if agent.app else set()
                modes = await self._with_grants(reader, keys, target, agent, modes, public,
                                                used)
            out.append(modes)
        return out

    async def _with_grants(self, reader: SealedReader, keys: PodKeys, target: Target,
                           agent: Agent, modes: set[Mode], public: set[Mode],
                           used: list[str] | None) -> set[Mode]:
        """Bound an app by the owner's consent, or widen an agent by the grants it holds.
        ``public`` is what anyone may do (an app gets that without any grant)."""
        protected = target.path.startswith(GRANTS) or target.aux == ACL_SUFFIX
        url = f"{self.base_url}{target.pod}{target.path}"
        if agent.app is not None:
            if protected:
                return set()
            if agent.webid == self.owner(target.pod):
                found = granted(await self.grants(reader, keys, target.pod), url,
                                app=app_iri(agent.app))
            else:
                found = await self._full_access(agent.webid or "", agent.app)
            if used is not None:
                used.extend(found.grants)
            return ((modes & _limited(target, found.modes)) | public) - {Mode.CONTROL}
        if protected:
            return modes
        found = granted(await self.grants(reader, keys, target.pod), url, agent=agent.webid)
        extra = _limited(target, found.modes)
        if used is not None and extra - modes:
            used.extend(found.grants)
        return modes | extra

    async def _full_access(self, webid: str, app: str) -> Granted:
        """What a local user lets ``app`` do everywhere: the modes of their grant to it
        whose target is their whole pod (nothing for users of other servers)."""
        none = Granted(frozenset(), ())
        if self._store is None or self._find_pod is None or not webid.startswith(
                self.base_url) or not webid.endswith(PROFILE):
            return none
        pod = webid[len(self.base_url):-len(PROFILE)]
        keys = await self._find_pod(pod) if pod and "/" not in pod else None
        if keys is None or self.owner(pod) != webid:
            return none
        async with self._store.read(keys) as reader:
            grants = await self.grants(reader, keys, pod)
        return granted(grants, f"{self.base_url}{pod}/", app=app_iri(app))

    async def grants(self, reader: SealedReader, keys: PodKeys, pod: str
                     ) -> tuple[Grant, ...]:
        """The pod's access grants, parsed from its ``/grants/`` container (cached)."""
        async def read() -> list[tuple[str, list]]:
            container = await load(reader, GRANTS)
            if container is None or container.kind != CONTAINER:
                return []
            out = []
            for name in await membership.members(reader, GRANTS, container):
                res = await load(reader, GRANTS + name)
                if res is not None and res.kind == RDF:
                    url = f"{self.base_url}{pod}{GRANTS}{name}"
                    out.append((url, rdf.parse(res.body, res.content_type, url)))
            return out

        return await self.grant_index.grants(keys.pod_id, read)

    async def check(
        self, reader: SealedReader, keys: PodKeys, target: Target, agent: Agent,
        needs: list[Need], used: list[str] | None = None,
    ) -> dict[str, set[Mode]]:
        """Raise 401/403 unless every need is granted; returns the modes found per path."""
        found: dict[str, set[Mode]] = {}
        for path, mode in needs:
            if path not in found:
                [found[path]] = await self.modes(reader, keys, target.with_path(path),
                                                 (agent,), used)
            if mode not in found[path]:
                self.deny(agent, mode, f"{self.base_url}{target.pod}{path}")
        return found

    async def check_with_allow(
        self, reader: SealedReader, keys: PodKeys, target: Target, agent: Agent, mode: Mode,
        used: list[str] | None = None,
    ) -> str:
        """Require ``mode`` on ``target`` and return its ``WAC-Allow`` value, in one ACL walk."""
        user, public = await self.modes(reader, keys, target, (agent, ANONYMOUS), used)
        if mode not in user:
            self.deny(agent, mode, self.base_url + target.pod + target.path)
        return f'user="{_names(user)}",public="{_names(public)}"'

    def deny(self, agent: Agent, mode: Mode, url: str) -> NoReturn:
        """Raise 401 (anonymous) or 403 for ``mode`` on ``url``."""
        if not agent.authenticated:
            raise Unauthenticated(f"{mode.value} access to {url} needs an authenticated agent",
                                  headers={"WWW-Authenticate": CHALLENGE})
        if agent.app is not None:
            raise Forbidden(f"the app {agent.app} has no {mode.value} access to {url} for "
                            f"{agent.webid}: WAC or the owner's consent does not allow it")
        raise Forbidden(f"{agent.webid} has no {mode.value} access to {url}")

    async def wac_allow(
        self, reader: SealedReader, keys: PodKeys, target: Target, agent: Agent
    ) -> str:
        """The ``WAC-Allow`` header value (WAC §6.1) for ``agent`` and the public."""
        user, public = await self.modes(reader, keys, target, (agent, ANONYMOUS))
        return f'user="{_names(user)}",public="{_names(public)}"'


def _limited(target: Target, modes: frozenset[Mode]) -> frozenset[Mode]:
    """Grants give at most Read on the owner's profile and settings (preferences, type
    indexes): whoever may change them could redirect the owner's identity or data."""
    if target.path.startswith(OWNER_DOCUMENTS):
        return modes & {Mode.READ}
    return modes


def _names(modes: set[Mode]) -> str:
    return " ".join(m.value for m in Mode if m in modes)
