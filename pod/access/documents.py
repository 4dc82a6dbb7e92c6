"""Documents of this server's own pods, read from the store as an HTTP GET would read them.

A Client ID Document, a WebID profile, a group or an issuer's profile that lives on this server
is read here instead of being fetched over the network (Solid-OIDC §5.1 and §8.3, WAC §4.3
read them by dereferencing): local development needs no ``allow_private_fetch``, and nothing
goes round through the HTTP stack. The same rules as a GET by ``agent`` apply — anonymous by
default, so a document counts only when it is public — checked before the resource is even
looked up, so a refusal says nothing of whether it exists (as the LDP edge's 401/403 do not).
WAC is never bypassed: this is the one place that reads another pod's documents for such checks.

The answer is the stored representation, as written (the syntax it was stored in, for RDF).
Containers are not documents here; callers that need other syntaxes parse the bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from pod.access.agent import ANONYMOUS, Agent
from pod.access.decide import AccessDecider
from pod.access.modes import required
from pod.errors import PodError
from pod.resources.paths import Target, parse_target
from pod.resources.records import CONTAINER, RDF
from pod.resources.service import load
from pod.store.sealed import PodKeys, SealedStore

FindPod = Callable[[str], Awaitable[PodKeys | None]]


class Unreadable(LookupError):
    """A document of this server that ``agent`` could not GET; the message says why, in words
    fit for the people who asked (it never says whether a refused document exists)."""


@dataclass(frozen=True, slots=True)
class Document:
    """A stored document: its URL (no fragment), bare media type, body and sealed version."""

    url: str
    media_type: str
    body: bytes
    version: bytes
    is_rdf: bool  # stored as RDF (Turtle or JSON-LD as written), not as an opaque file


class LocalDocuments:
    """Reads documents of this server's pods under the rules of a GET by an agent."""

    def __init__(self, base_url: str, find_pod: FindPod, store: SealedStore,
                 access: AccessDecider):
        self.base_url = base_url
        self._find_pod, self._store, self._access = find_pod, store, access

    def hosts(self, url: str) -> bool:
        """Whether ``url`` names a resource of this server (it starts with ``base_url``)."""
        return url.startswith(self.base_url)

    async def read(self, url: str, agent: Agent = ANONYMOUS, *, groups: bool = True
                   ) -> Document:
        """The document at ``url`` (a fragment is dropped) as ``agent`` may GET it. With
        ``groups=False`` no ``acl:agentGroup`` counts (for reading a group document itself,
        so checks never recurse). Raises :class:`Unreadable`."""
        document = url.partition("#")[0]
        target = self._target(document)
        keys = await self._find_pod(target.pod)
        if keys is None:
            raise Unreadable(f"{document}: there is no pod named {target.pod!r} here")
        async with self._store.read(keys) as reader:
            for path, mode in required("GET", target, True):
                [modes] = await self._access.modes(reader, keys, target.with_path(path),
                                                   (agent,), groups=groups)
                if mode not in modes:
                    who = "publicly" if agent.webid is None else f"by {agent.webid}"
                    raise Unreadable(f"{document} is not readable {who}")
            res = await load(reader, target.path)
        if res is None:
            raise Unreadable(f"{document} does not exist")
        if res.kind == CONTAINER:
            raise Unreadable(f"{document} is a container, not a document")
        media_type = res.content_type.split(";", 1)[0].strip().lower()
        return Document(document, media_type, res.body, res.version, res.kind == RDF)

    def _target(self, document: str) -> Target:
        if not self.hosts(document):
            raise Unreadable(f"{document} is not on this server")
        prefix = urlsplit(self.base_url).path
        try:
            return parse_target("/" + urlsplit(document).path.removeprefix(prefix))
        except PodError as error:
            raise Unreadable(f"{document} names no resource here: {error.detail}") from None
