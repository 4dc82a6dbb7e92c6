"""What goes to a pod and what comes back: request bodies, answers (:class:`Resource`), bulk
reads (:class:`Collected`), and Commonpod's pod URLs."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from apps.sdk.errors import InvalidResponse
from apps.sdk.rdf import JSON_LD, TURTLE, Graph, is_rdf, media_type
from apps.sdk.records import Record, Statement

#: one link of a ``Link`` header (RFC 8288 §3): ``<target>`` and its parameters
_LINK = re.compile(r'<(?P<target>[^>]*)>'
                   r'(?P<params>(?:\s*;\s*[^;,="]+(?:\s*=\s*(?:"[^"]*"|[^;,]*))?)*)')
_PARAM = re.compile(r';\s*(?P<name>[^;,="\s]+)\s*(?:=\s*(?P<value>"[^"]*"|[^;,\s]*))?')
#: what :meth:`~apps.sdk.client.PodClient.put` and ``post`` take as a body
Body = bytes | str | Graph | Record | dict[str, Any] | list[Any]


@dataclass
class Resource:
    """A pod's answer about one resource: ``status``, ``etag``, ``content_type``, ``body``,
    ``location`` (of something created), ``links`` (``Link`` header: rel → URLs)."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes = b""

    @property
    def etag(self) -> str | None:
        """The entity tag, for ``if_match`` / ``if_none_match`` (RFC 9110 §8.8.3)."""
        etag: str | None = self.headers.get("etag")
        return etag

    @property
    def content_type(self) -> str:
        return media_type(self.headers.get("content-type"))

    @property
    def location(self) -> str | None:
        """The URL of what a ``POST`` or ``PUT`` created."""
        found = self.headers.get("location")
        return str(httpx.URL(self.url).join(found)) if found else None

    @property
    def links(self) -> dict[str, list[str]]:
        """The ``Link`` header (RFC 8288 §3) as rel → target URLs, in order (e.g. ``acl``,
        ``type``, which a Solid server sends more than once)."""
        found: dict[str, list[str]] = {}
        for value in self.headers.get_list("link"):
            for link in _LINK.finditer(value):
                target = str(httpx.URL(self.url).join(link["target"]))
                for param in _PARAM.finditer(link["params"]):
                    if param["name"].lower() == "rel":
                        rels = param["value"].strip('"')
                        for rel in rels.split():
                            found.setdefault(rel, []).append(target)
        return found

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def graph(self) -> Graph:
        """The body as RDF, relative IRIs resolved against the resource's URL."""
        if not is_rdf(self.content_type):
            raise InvalidResponse(f"{self.url} is {self.content_type or 'no content'}, not RDF")
        try:
            return Graph.parse(self.body, self.content_type, base_iri=self.url)
        except ValueError as exc:
            raise InvalidResponse(f"{self.url}: {exc}") from None


@dataclass
class Collected:
    """A bulk read of one class in one pod (``/.api/collect``): the merged ``graph``, the
    ``documents`` it includes (each in its container), and the class's typed ``records``
    when the SDK has a record type for it (statements are read from their own documents, as
    signed)."""

    pod: str
    cls: str
    graph: Graph
    documents: list[str]
    records: list[Record] = field(default_factory=list)
    #: what could not be read as a record (a node or document → why), left out of ``records``
    problems: dict[str, str] = field(default_factory=dict)


def encode_body(body: Body, content_type: str | None) -> tuple[bytes, str]:
    """The bytes and media type of a body: records as Turtle (statements as their JSON-LD
    credential), graphs as Turtle, dicts and lists as JSON-LD; bytes and text as given."""
    if isinstance(body, Statement):
        credential = body.credential or body.to_credential()
        return json.dumps(credential).encode(), content_type or JSON_LD
    if isinstance(body, Record):
        return body.to_turtle(), content_type or TURTLE
    if isinstance(body, Graph):
        kind = content_type or TURTLE
        return body.serialize(kind), kind
    if isinstance(body, dict | list):
        return json.dumps(body).encode(), content_type or JSON_LD
    if content_type is None:
        raise ValueError("say what the body is: content_type= (e.g. 'text/turtle')")
    return (body.encode() if isinstance(body, str) else body), content_type


def pod_parts(pod: str) -> tuple[str, str]:
    """A Commonpod pod URL (``https://host/NAME/``) as its server's base URL and pod name."""
    if not pod.endswith("/"):
        pod += "/"
    path = urlsplit(pod).path.rstrip("/")
    name = path.rsplit("/", 1)[-1]
    if not name:
        raise ValueError(f"{pod} is not a pod URL (https://host/NAME/)")
    return pod[: len(pod) - len(name) - 1], name
