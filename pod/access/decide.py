"""The access decision: which modes an agent has, and whether a request may proceed.

For a resource, the effective ACL is its own ``.acl`` (``acl:accessTo``) or else the nearest
ancestor container's ``.acl`` (``acl:default``) — WAC §5 "ACL Resolution". Parsed ACLs are
cached by their sealed version, so an ACL change takes effect on the very next request. The
pod owner always holds Control, so no ACL edit can lock them out of their own pod.

``acl:agentGroup`` membership is asked of ``is_member``, a callback wired in at start-up (the
authentication layer reads group documents, local or remote); without it groups grant nothing.
Groups are asked only when they could add a mode, and on behalf of the pod owner whose ACL
names them: a group document the owner may not read counts as empty (``auth.groups``).

Apps are bounded by the owner's consent (``pod.access.grants``). An app acting for the pod's
owner gets at most WAC ∩ the owner's grants to that app; acting for another user of this
server, at most WAC ∩ that user's full-access grant to it; an app may always do what anyone may.
An agent acting as itself (its own WebID, no app in between) gets WAC ∪ the grants the owner
gave that WebID. No app ever gets Control, or anything under ``/grants/``; grants never give
more than Read on the owner's profile and settings.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import NoReturn

import pyoxigraph as ox
from cachetools import LRUCache

from pod.access import wac
from pod.access.agent import ANONYMOUS, Agent
from pod.access.grants import GRANTS, Grant, Granted, GrantIndex, app_iri, granted
from pod.access.modes import Mode, Need, required
from pod.errors import Forbidden, Unauthenticated
from pod.resources import membership, rdf
from pod.resources.paths import ACL_SUFFIX, Target
from pod.resources.records import CONTAINER, RDF, Resource
from pod.resources.service import load
from pod.store.sealed import PodKeys, SealedReader, SealedStore

CACHE_SIZE = 10_000  # parsed ACL documents (the setting cache_acls)
CHALLENGE = 'DPoP algs="ES256 ES384 PS256 RS256 EdDSA"'

IsMember = Callable[[str, str, str], Awaitable[bool]]
"""``await is_member(group_iri, webid, owner)``: does the group's document list the WebID, as
far as ``owner`` (the WebID of the pod owner whose ACL names the group) may read it?"""
FindPod = Callable[[str], Awaitable[PodKeys | None]]
PROFILE = "/profile/card#me"
OWNER_DOCUMENTS = ("/profile/", "/settings/")


def deny(agent: Agent, mode: Mode, url: str) -> NoReturn:
    """Raise 401 (anonymous) or 403 for ``mode`` on ``url`` (WAC §5; Solid Protocol §4.3)."""
    if not agent.authenticated:
        raise Unauthenticated(f"{mode.value} access to {url} needs an authenticated agent",
                              headers={"WWW-Authenticate": CHALLENGE})
    if agent.app is not None:
        raise Forbidden(f"the app {agent.app} has no {mode.value} access to {url} for "
                        f"{agent.webid}: WAC or the owner's consent does not allow it")
    raise Forbidden(f"{agent.webid} has no {mode.value} access to {url}")


@dataclass(frozen=True, slots=True)
class Decision:
    """What the access decision found for one request: the modes ``agent`` holds on the
    resource the request is about, the IRIs of the access grants that gave modes (in the order
    they were consulted; the access log names the first), the need that was not met — its mode
    and the URL or words it was about — if any, and for a read the modes anyone holds, for
    ``WAC-Allow`` (WAC §6.1). A refusal is a value too, so whoever records the request sees
    the grants consulted before :meth:`require` raises."""

    agent: Agent
    modes: set[Mode]
    grants: tuple[str, ...] = ()
    refused: tuple[Mode, str] | None = None
    public: set[Mode] | None = None

    @property
    def allowed(self) -> bool:
        return self.refused is None

    @property
    def grant(self) -> str | None:
        """The grant the access log names: the first that gave modes."""
        return self.grants[0] if self.grants else None

    @property
    def wac_allow(self) -> str:
        """The ``WAC-Allow`` header value (WAC §6.1), for a decision that asked for it."""
        return f'user="{_names(self.modes)}",public="{_names(self.public or ())}"'

    def require(self) -> None:
        """Raise 401 (anonymous) or 403 unless every need was met."""
        if self.refused is not None:
            deny(self.agent, *self.refused)


class AccessDecider:
    """Answers "may this agent do this?" from the ACL resources in the sealed store."""

    def __init__(self, base_url: str, is_member: IsMember | None = None, *,
                 store: SealedStore | None = None, find_pod: FindPod | None = None,
                 acl_cache: int = CACHE_SIZE, pod_cache: int = 50_000):
        self.base_url = base_url
        self.is_member = is_member
        self.grant_index = GrantIndex(pod_cache)
        self._store, self._find_pod = store, find_pod
        # parsed ACLs by (pod, path, sealed version): a write makes a new version, so an entry
        # is never stale; the least recently used go first
        self._cache: LRUCache[tuple[bytes, str, bytes], list[wac.Authorization]] = (
            LRUCache(acl_cache))

    def owner(self, pod: str) -> str:
        return f"{self.base_url}{pod}/profile/card#me"

    async def _effective(
        self, reader: SealedReader, keys: PodKeys, target: Target
    ) -> tuple[list[wac.Authorization], str, bool]:
        """The authorizations of the effective ACL, the URL they apply to, inherited or not.

        The walk up from the resource asks the store for each ``.acl``'s version only; the
        nearest found is opened only when that version is not parsed and cached already."""
        path: str | None = target.path
        inherited = False
        while path is not None:
            acl_path = path + ACL_SUFFIX
            [version] = await reader.versions([acl_path])
            if version is not None:
                auths = await self._parsed(reader, keys, target, acl_path, version)
                if auths is None:  # removed since its version was read: walk again
                    return await self._effective(reader, keys, target)
                return auths, f"{self.base_url}{target.pod}{path}", inherited
            path, inherited = target.with_path(path).parent, True
        return [], "", False

    async def _parsed(self, reader: SealedReader, keys: PodKeys, target: Target,
                      acl_path: str, version: bytes) -> list[wac.Authorization] | None:
        """The authorizations of the ACL at ``acl_path`` in ``version``: cached, or opened and
        parsed (``None``: no ACL is there any more)."""
        auths = self._cache.get((keys.pod_id, acl_path, version))
        if auths is not None:
            return auths
        opened = await reader.get(acl_path)
        if opened is None:
            return None
        res = Resource.decode(opened.data, opened.version)
        url = f"{self.base_url}{target.pod}{acl_path}"
        auths = wac.parse_acl(rdf.parse(res.body, res.content_type, url))
        self._cache[(keys.pod_id, acl_path, opened.version)] = auths
        return auths

    async def modes(
        self, reader: SealedReader, keys: PodKeys, target: Target, agents: tuple[Agent, ...],
        *, groups: bool = True,
    ) -> list[set[Mode]]:
        """The modes each of ``agents`` holds on ``target``. With ``groups=False`` no
        ``acl:agentGroup`` counts (for checks made while reading a group document, which must
        not recurse)."""
        return (await self._modes(reader, keys, target, agents, groups))[0]

    async def _modes(
        self, reader: SealedReader, keys: PodKeys, target: Target, agents: tuple[Agent, ...],
        groups: bool = True,
    ) -> tuple[list[set[Mode]], tuple[str, ...]]:
        """The modes each of ``agents`` holds on ``target``, and the IRIs of the grants that
        gave modes."""
        auths, url, inherited = await self._effective(reader, keys, target)
        owner = self.owner(target.pod)
        out = []
        used: tuple[str, ...] = ()
        for agent in agents:
            modes = wac.granted(auths, agent, url, inherited)
            if self.is_member is not None and groups:
                asked = wac.groups_to_ask(auths, agent, url, inherited, modes)
                if asked:
                    member = [g for g in asked
                              if await self.is_member(g, agent.webid or "", owner)]
                    modes = wac.granted(auths, agent, url, inherited, member)
            if agent.webid is not None and agent.webid == owner:
                modes.add(Mode.CONTROL)
            if agent.app is not None or (agent.webid is not None and agent.webid != owner):
                public = wac.granted(auths, ANONYMOUS, url, inherited) if agent.app else set()
                modes, grants = await self._with_grants(reader, keys, target, agent, modes,
                                                        public)
                used += grants
            out.append(modes)
        return out, used

    async def _with_grants(self, reader: SealedReader, keys: PodKeys, target: Target,
                           agent: Agent, modes: set[Mode], public: set[Mode]
                           ) -> tuple[set[Mode], tuple[str, ...]]:
        """Bound an app by the owner's consent, or widen an agent by the grants it holds;
        with the IRIs of the grants that gave modes. ``public`` is what anyone may do (an app
        gets that without any grant)."""
        protected = target.path.startswith(GRANTS) or target.aux == ACL_SUFFIX
        url = f"{self.base_url}{target.pod}{target.path}"
        if agent.app is not None:
            if protected:
                return set(), ()
            if agent.webid == self.owner(target.pod):
                found = granted(await self.grants(reader, keys, target.pod), url,
                                app=app_iri(agent.app))
            else:
                found = await self._full_access(agent.webid or "", agent.app)
            limited = ((modes & _limited(target, found.modes)) | public) - {Mode.CONTROL}
            return limited, found.grants
        if protected:
            return modes, ()
        found = granted(await self.grants(reader, keys, target.pod), url, agent=agent.webid)
        extra = _limited(target, found.modes)
        return modes | extra, found.grants if extra - modes else ()

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
        async def read(reader: SealedReader) -> list[tuple[str, list[ox.Triple]]]:
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

        return await self.grant_index.grants(keys.pod_id, reader, read)

    async def decide(
        self, reader: SealedReader, keys: PodKeys, target: Target, agent: Agent,
        needs: list[Need],
    ) -> Decision:
        """Whether ``agent`` holds every need (WAC §5), in order, stopping at the first that
        is not met; ``modes`` are those on the first need's resource."""
        found: dict[str, set[Mode]] = {}
        used: tuple[str, ...] = ()
        for path, mode in needs:
            if path not in found:
                [found[path]], grants = await self._modes(reader, keys,
                                                          target.with_path(path), (agent,))
                used += grants
            if mode not in found[path]:
                url = f"{self.base_url}{target.pod}{path}"
                return Decision(agent, found[needs[0][0]], used, (mode, url))
        return Decision(agent, found[needs[0][0]] if needs else set(), used)

    async def decide_read(
        self, reader: SealedReader, keys: PodKeys, target: Target, agent: Agent
    ) -> Decision:
        """A GET or HEAD (WAC §5): Read on the resource — Control on the subject of an
        ``.acl`` — and the ``WAC-Allow`` modes (WAC §6.1) of the agent and of anyone on that
        subject, in one ACL walk."""
        [(path, mode)] = required("GET", target, True)
        subject = target if path == target.path else target.with_path(path)
        (user, public), used = await self._modes(reader, keys, subject, (agent, ANONYMOUS))
        if mode not in user:
            url = self.base_url + target.pod + path
            return Decision(agent, user, used, (mode, url), public)
        return Decision(agent, user, used, None, public)

    async def check(
        self, reader: SealedReader, keys: PodKeys, target: Target, agent: Agent,
        needs: list[Need],
    ) -> Decision:
        """Raise 401/403 unless every need is granted; returns the decision."""
        decision = await self.decide(reader, keys, target, agent, needs)
        decision.require()
        return decision

    deny = staticmethod(deny)


def _limited(target: Target, modes: frozenset[Mode]) -> frozenset[Mode]:
    """Grants give at most Read on the owner's profile and settings (preferences, type
    indexes): whoever may change them could redirect the owner's identity or data."""
    if target.path.startswith(OWNER_DOCUMENTS):
        return modes & {Mode.READ}
    return modes


def _names(modes: Collection[Mode]) -> str:
    return " ".join(m.value for m in Mode if m in modes)
