"""The access decision: which modes an agent has, and whether a request may proceed.

For a resource, the effective ACL is its own ``.acl`` (``acl:accessTo``) or else the nearest
ancestor container's ``.acl`` (``acl:default``) — WAC §5 "ACL Resolution". Parsed ACLs are
cached by their sealed version, so an ACL change takes effect on the very next request. The
pod owner always holds Control, so no ACL edit can lock them out of their own pod.

``acl:agentGroup`` membership is asked of ``is_member``, a callback wired in at start-up (the
authentication layer reads group documents, local or remote); without it groups grant nothing.
Groups are asked only when they could add a mode.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import NoReturn

from pod.access import wac
from pod.access.agent import ANONYMOUS, Agent
from pod.access.modes import Mode, Need
from pod.errors import Forbidden, Unauthenticated
from pod.resources import rdf
from pod.resources.paths import ACL_SUFFIX, Target
from pod.resources.records import Resource
from pod.store.sealed import Opened, PodKeys, SealedReader

CACHE_SIZE = 4096
CHALLENGE = 'DPoP algs="ES256 ES384 PS256 RS256 EdDSA"'

IsMember = Callable[[str, str], Awaitable[bool]]
"""``await is_member(group_iri, webid)``: does the group's document list the WebID?"""


class AccessDecider:
    """Answers "may this agent do this?" from the ACL resources in the sealed store."""

    def __init__(self, base_url: str, is_member: IsMember | None = None):
        self.base_url = base_url
        self.is_member = is_member
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
        self, reader: SealedReader, keys: PodKeys, target: Target, agents: tuple[Agent, ...]
    ) -> list[set[Mode]]:
        """The modes each of ``agents`` holds on ``target``."""
        auths, url, inherited = await self._effective(reader, keys, target)
        out = []
        for agent in agents:
            modes = wac.granted(auths, agent, url, inherited)
            if self.is_member is not None:
                groups = wac.groups_to_ask(auths, agent, url, inherited, modes)
                if groups:
                    member = [g for g in groups if await self.is_member(g, agent.webid or "")]
                    modes = wac.granted(auths, agent, url, inherited, member)
            if agent.webid is not None and agent.webid == self.owner(target.pod):
                modes.add(Mode.CONTROL)
            out.append(modes)
        return out

    async def check(
        self, reader: SealedReader, keys: PodKeys, target: Target, agent: Agent,
        needs: list[Need],
    ) -> dict[str, set[Mode]]:
        """Raise 401/403 unless every need is granted; returns the modes found per path."""
        found: dict[str, set[Mode]] = {}
        for path, mode in needs:
            if path not in found:
                [found[path]] = await self.modes(reader, keys, target.with_path(path), (agent,))
            if mode not in found[path]:
                self._deny(agent, mode, f"{self.base_url}{target.pod}{path}")
        return found

    async def check_with_allow(
        self, reader: SealedReader, keys: PodKeys, target: Target, agent: Agent, mode: Mode
    ) -> str:
        """Require ``mode`` on ``target`` and return its ``WAC-Allow`` value, in one ACL walk."""
        user, public = await self.modes(reader, keys, target, (agent, ANONYMOUS))
        if mode not in user:
            self._deny(agent, mode, self.base_url + target.pod + target.path)
        return f'user="{_names(user)}",public="{_names(public)}"'

    def _deny(self, agent: Agent, mode: Mode, url: str) -> NoReturn:
        if not agent.authenticated:
            raise Unauthenticated(f"{mode.value} access to {url} needs an authenticated agent",
                                  headers={"WWW-Authenticate": CHALLENGE})
        raise Forbidden(f"{agent.webid} has no {mode.value} access to {url}")

    async def wac_allow(
        self, reader: SealedReader, keys: PodKeys, target: Target, agent: Agent
    ) -> str:
        """The ``WAC-Allow`` header value (WAC §6.1) for ``agent`` and the public."""
        user, public = await self.modes(reader, keys, target, (agent, ANONYMOUS))
        return f'user="{_names(user)}",public="{_names(public)}"'


def _names(modes: set[Mode]) -> str:
    return " ".join(m.value for m in Mode if m in modes)
