"""Sharing a resource: who has access, giving access, taking it away — as WAC.

Whoever holds Control of a resource (its pod's owner always does) may see and change who has
access to it; anyone else is refused as a request for its ``.acl`` would be (WAC §5: an ACL
needs Control of its subject). The owner's browser pages act as the owner's WebID, directly,
through the same decision as every other agent. The new ACL is written through the resource
service like a PUT of it, conditional on the ACL read (``If-Match``, or ``If-None-Match: *``
when there was none), so two edits at once never lose one another: the later is refused and
asked again. The edit itself is :mod:`pod.access.acl_edit`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from pod.access import acl_edit, wac
from pod.access.acl_edit import Holder, Party
from pod.access.agent import Agent
from pod.access.decide import AccessDecider
from pod.access.grants import GRANTS
from pod.access.modes import Mode
from pod.errors import Conflict, NotFound, PreconditionFailed
from pod.resources import rdf
from pod.resources.conditions import Conditions
from pod.resources.paths import ACL_SUFFIX, Target
from pod.resources.records import Resource
from pod.resources.service import ResourceService, load
from pod.store.sealed import PodKeys, SealedReader

Edit = Callable[[list[ox.Triple], str, str], list[ox.Triple]]
"""An edit of an ACL's triples, given the ACL's URL and the URL of the resource it governs."""

__all__ = ["Access", "Holder", "Party", "Sharing"]


@dataclass(frozen=True, slots=True)
class Access:
    """Who has access to a resource, and where that is said."""

    url: str
    holders: list[Holder]
    inherited_from: str | None  # the container whose ACL applies, when not the resource's own
    owner: str


@dataclass(frozen=True, slots=True)
class _Acl:
    """A resource's effective ACL: its own (``stored``), or its nearest container's."""

    own: list[ox.Triple] | None
    stored: Resource | None
    auths: list[wac.Authorization]
    applies_to: str  # the URL its authorizations name: the resource, or the container
    inherited: bool


class Sharing:
    """Reads and edits who may access a resource, for agents holding Control of it."""

    def __init__(self, access: AccessDecider, resources: ResourceService):
        self.access, self.resources = access, resources

    async def who(self, keys: PodKeys, target: Target, agent: Agent) -> Access:
        """Who has access to ``target``, for an ``agent`` holding Control of it."""
        acl = await self._read(keys, target, agent)
        url = self.resources.url(target)
        return Access(url, acl_edit.holders(acl.auths, acl.applies_to, acl.inherited),
                      acl.applies_to if acl.inherited else None, self.access.owner(target.pod))

    async def share(self, keys: PodKeys, target: Target, agent: Agent, party: Party,
                    modes: frozenset[Mode]) -> None:
        """Give ``party`` exactly ``modes`` on ``target`` (and, for a container, what is in
        it) by an authorization of its own."""
        if target.path.startswith(GRANTS):
            raise acl_edit.EditRefused("the consent you gave apps (grants/) stays yours alone")
        await self._edit(keys, target, agent, lambda triples, acl_url, url: acl_edit.share(
            triples, acl_url, url, target.is_container, party, modes,
            self.access.owner(target.pod)))

    async def unshare(self, keys: PodKeys, target: Target, agent: Agent, party: Party) -> None:
        """Take ``party`` out of every authorization of ``target``'s ACL."""
        await self._edit(keys, target, agent, lambda triples, acl_url, url: acl_edit.unshare(
            triples, acl_url, url, target.is_container, party, self.access.owner(target.pod)))

    async def _edit(self, keys: PodKeys, target: Target, agent: Agent, change: Edit) -> None:
        acl = await self._read(keys, target, agent)
        url = self.resources.url(target)
        acl_target = target.with_path(target.path + ACL_SUFFIX)
        acl_url = self.resources.url(acl_target)
        triples = acl.own if acl.own is not None else acl_edit.inherit(
            acl.auths, acl.applies_to, acl_url, url, target.is_container)
        edited = change(triples, acl_url, url)
        body = rdf.serialize(edited, rdf.TURTLE)
        cond = (Conditions(if_match=frozenset({acl.stored.etag})) if acl.stored
                else Conditions(if_none_match=frozenset({"*"})))
        try:
            await self.resources.put(keys, acl_target, body, rdf.TURTLE, cond)
        except PreconditionFailed:
            raise Conflict("who has access was changed meanwhile; look again and retry") \
                from None

    async def _read(self, keys: PodKeys, target: Target, agent: Agent) -> _Acl:
        """The effective ACL of ``target``, once ``agent`` is known to hold Control of it."""
        if target.aux:
            raise NotFound("an auxiliary resource is shared with the resource it belongs to")
        async with self.resources.store.read(keys) as reader:
            await self.access.check(reader, keys, target, agent, [(target.path, Mode.CONTROL)])
            if await load(reader, target.path) is None:
                raise NotFound(f"there is no resource {self.resources.url(target)}")
            return await self._effective(reader, target)

    async def _effective(self, reader: SealedReader, target: Target) -> _Acl:
        path: str | None = target.path
        while path is not None:
            stored = await load(reader, path + ACL_SUFFIX)
            if stored is not None:
                acl_url = self.resources.url(target, path + ACL_SUFFIX)
                triples = rdf.parse(stored.body, stored.content_type, acl_url)
                applies = self.resources.url(target, path)
                own = path == target.path
                return _Acl(triples if own else None, stored if own else None,
                            wac.parse_acl(triples), applies, not own)
            path = target.with_path(path).parent
        return _Acl(None, None, [], self.resources.url(target), False)
