"""Response headers Solid clients read (Solid Protocol §4–§8): Link, Allow, Accept-*, CORS."""

from __future__ import annotations

from email.utils import formatdate

from pod.resources import rdf
from pod.resources.paths import Target
from pod.resources.records import BINARY, CONTAINER, Resource
from vocab.namespaces import LDP, PIM, SOLID, iri_of

STORAGE_DESCRIPTION = iri_of(SOLID.storageDescription)
_RESOURCE = iri_of(LDP.Resource)
_CONTAINER = (iri_of(LDP.Container), iri_of(LDP.BasicContainer))
_NON_RDF, _RDF = iri_of(LDP.NonRDFSource), iri_of(LDP.RDFSource)
_STORAGE = iri_of(PIM.Storage)
_OWNER = iri_of(SOLID.owner)
ACCEPT_PATCH = "text/n3, application/sparql-update"
ACCEPT_RDF = ", ".join(rdf.RDF_TYPES)
USER_CONTENT_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
EXPOSE = ("Accept-Patch, Accept-Post, Accept-Put, Allow, Content-Location, Content-Type, ETag, "
          "Last-Modified, Link, Location, Updates-Via, WAC-Allow, WWW-Authenticate, Vary")


def storage_link(base_url: str) -> str:
    """The storage-description link (Solid Protocol §4.1.2)."""
    return f'<{base_url}.well-known/solid>; rel="{STORAGE_DESCRIPTION}"'


def allow(target: Target) -> str:
    if target.is_root:
        return "OPTIONS, HEAD, GET, POST, PUT, PATCH"
    if target.path == "/.acl":
        return "OPTIONS, HEAD, GET, PUT, PATCH"
    if target.is_container:
        return "OPTIONS, HEAD, GET, POST, PUT, PATCH, DELETE"
    return "OPTIONS, HEAD, GET, PUT, PATCH, DELETE"


def links(url: str, target: Target, res: Resource | None, base_url: str,
          owner: str | None) -> str:
    """The ``Link`` header: types, ``acl``, ``describedby`` and the storage description."""
    types = [_RESOURCE]
    if target.is_container:
        types += _CONTAINER
    elif res is not None:
        types.append(_NON_RDF if res.kind == BINARY else _RDF)
    if target.is_root:
        types.append(_STORAGE)
    out = [f'<{t}>; rel="type"' for t in types]
    if not target.aux:
        out += [f'<{url}.acl>; rel="acl"', f'<{url}.meta>; rel="describedby"']
    out.append(storage_link(base_url))
    if target.is_root and owner:
        out.append(f'<{owner}>; rel="{_OWNER}"')
    return ", ".join(out)


def resource_headers(url: str, target: Target, res: Resource | None, base_url: str,
                     owner: str | None) -> dict[str, str]:
    """Headers every response about ``target`` carries."""
    headers = {
        "Link": links(url, target, res, base_url, owner),
        "Allow": allow(target),
        "Accept-Patch": ACCEPT_PATCH,
        "Accept-Put": ACCEPT_RDF + ", */*" if not target.is_container else ACCEPT_RDF,
        "Vary": "Accept, Authorization, Origin",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": USER_CONTENT_CSP,
    }
    if target.is_container:
        headers["Accept-Post"] = "*/*"
    if res is not None:
        headers["ETag"] = res.etag
        headers["Last-Modified"] = formatdate(res.modified, usegmt=True)
    return headers


def cors(origin: str | None, request_headers: str | None = None,
         preflight: bool = False) -> dict[str, str]:
    """CORS as Solid asks (Solid Protocol §8.1): echo the origin, never deny through CORS."""
    if not origin:
        return {}
    out = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true",
           "Access-Control-Expose-Headers": EXPOSE}
    if preflight:
        out["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
        out["Access-Control-Allow-Headers"] = request_headers or (
            "Accept, Authorization, Content-Type, DPoP, If-Match, If-None-Match, Link, Slug")
        out["Access-Control-Max-Age"] = "600"
    return out


__all__ = ["CONTAINER", "allow", "cors", "links", "resource_headers"]
