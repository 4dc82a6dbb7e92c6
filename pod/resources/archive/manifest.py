"""The manifest of a pod archive (``manifest.json``): what the archive holds, read strictly.

Everything in it is checked before it is believed: a format name and version this server
reads, the source pod's URL, and for each file its archive name, pod path (canonical, every
parent present), kind, media type, size and SHA-256. The importer trusts the manifest only as
far as these checks go, and then checks every file against it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from pod.errors import ArchiveRefused, PodError
from pod.resources.paths import Target, parse_target
from pod.resources.records import BINARY, CONTAINER, RDF
from vocab.terms import ARCHIVE_FORMAT

FORMAT = ARCHIVE_FORMAT
VERSION = 1
NAME = "manifest.json"
POD_PREFIX = "pod"
LOG_PREFIX = "access-log/"
KINDS = {CONTAINER: "container", RDF: "rdf", BINARY: "binary"}
#: most resources (and access-log days) one archive may hold
MAX_RESOURCES = 100_000
MAX_FILES = 40_000
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MEDIA = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(?:\s*;[ -~]*)?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource in the archive."""

    path: str  # canonical path in the pod ("/" for the root)
    file: str  # name in the zip
    kind: str  # "container" | "rdf" | "binary" (the values of KINDS)
    content_type: str
    size: int
    sha256: str
    modified: float

    @property
    def depth(self) -> int:
        """Segments in the path: parents come before their members, subjects before their
        auxiliary resources."""
        return len([s for s in self.path.split("/") if s])


@dataclass(frozen=True, slots=True)
class Extra:
    """A file that is not a resource: one day of the access log."""

    file: str
    kind: str  # "access-log"
    day: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    pod: str  # the source pod's URL, ending in "/"
    owner: str  # its owner's WebID
    issuer: str  # the server it came from (its base URL)
    exported: str  # ISO 8601 UTC
    resources: tuple[Entry, ...]
    files: tuple[Extra, ...] = ()

    def dumps(self) -> bytes:
        """The manifest as JSON (one line per file, readable in any editor)."""
        head = {"format": FORMAT, "version": VERSION, "pod": self.pod, "owner": self.owner,
                "issuer": self.issuer, "exported": self.exported,
                "counts": {"resources": len(self.resources), "files": len(self.files),
                           "bytes": sum(e.size for e in self.resources)}}
        lines = [json.dumps(head, separators=(",", ":"))[:-1] + ',"resources":[']
        lines.append(",\n".join(json.dumps(asdict(e), separators=(",", ":"))
                                for e in self.resources))
        lines.append('],"files":[')
        lines.append(",\n".join(json.dumps(asdict(e), separators=(",", ":"))
                                for e in self.files))
        lines.append("]}\n")
        return "\n".join(lines).encode()


def refuse(why: str) -> ArchiveRefused:
    return ArchiveRefused(f"this is not an archive this server can import: {why}; nothing "
                          "was written")


def loads(data: bytes) -> Manifest:
    """Read and check a manifest; raises :class:`ArchiveRefused` saying what is wrong."""
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise refuse("its manifest.json is not JSON") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise refuse("it is no Commonpod pod archive (manifest.json names another format)")
    if value.get("version") != VERSION:
        raise refuse(f"it is of format version {value.get('version')!r}; this server reads "
                     f"version {VERSION}")
    pod = _text(value, "pod")
    parts = urlsplit(pod)
    if parts.scheme not in ("http", "https") or not parts.netloc or not pod.endswith("/"):
        raise refuse("the manifest's pod is no http(s) URL of a pod")
    entries = _list(value, "resources", MAX_RESOURCES)
    extras = _list(value, "files", MAX_FILES)
    manifest = Manifest(pod, _text(value, "owner"), _text(value, "issuer"),
                        _text(value, "exported"), tuple(_entry(e) for e in entries),
                        tuple(_extra(e) for e in extras))
    _whole(manifest)
    return manifest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _text(value: dict[str, Any], key: str, most: int = 2048) -> str:
    found = value.get(key)
    if not isinstance(found, str) or not found or len(found) > most:
        raise refuse(f"the manifest's {key!r} is missing or not a short text")
    return found


def _list(value: dict[str, Any], key: str, most: int) -> list[Any]:
    found = value.get(key)
    if not isinstance(found, list):
        raise refuse(f"the manifest has no list of {key}")
    if len(found) > most:
        raise refuse(f"it lists {len(found)} {key}, more than the {most} one archive may hold")
    return found


def _int(value: dict[str, Any], key: str) -> int:
    found = value.get(key)
    if not isinstance(found, int) or isinstance(found, bool) or found < 0:
        raise refuse(f"a {key!r} in the manifest is not a size")
    return found


def _digest(value: dict[str, Any]) -> str:
    found = value.get("sha256")
    if not isinstance(found, str) or not _SHA256.fullmatch(found):
        raise refuse("a checksum in the manifest is not a SHA-256 in hexadecimal")
    return found


def _media(value: dict[str, Any]) -> str:
    found = value.get("content_type")
    if not isinstance(found, str) or len(found) > 255 or not _MEDIA.fullmatch(found):
        raise refuse("a media type in the manifest is not one")
    return found


def _entry(value: Any) -> Entry:
    if not isinstance(value, dict):
        raise refuse("a resource in the manifest is not an object")
    path = _text(value, "path")
    try:
        target = parse_target("/p" + path) if path.startswith("/") else None
    except PodError:
        target = None
    if target is None or target.path != path:
        raise refuse(f"{path[:200]!r} is not a canonical path in a pod")
    kind = value.get("kind")
    if not isinstance(kind, str) or kind not in KINDS.values():
        raise refuse(f"the kind of {path} is not one of {', '.join(KINDS.values())}")
    if (kind == "container") != target.is_container or (target.aux and kind != "rdf"):
        raise refuse(f"{path} cannot be a resource of kind {kind}")
    modified = value.get("modified")
    if not isinstance(modified, int | float) or isinstance(modified, bool) \
            or not math.isfinite(modified) or not 0 <= modified < 253402300800:
        raise refuse(f"the modified time of {path} is not a time")
    return Entry(path, _file(value), kind, _media(value), _int(value, "size"), _digest(value),
                 float(modified))


def _extra(value: Any) -> Extra:
    if not isinstance(value, dict) or value.get("kind") != "access-log":
        raise refuse("a file in the manifest is of no kind this server knows")
    day = _text(value, "day")
    if not _DAY.fullmatch(day):
        raise refuse("an access-log file names no day")
    return Extra(_file(value), "access-log", day, _media(value), _int(value, "size"),
                 _digest(value))


def _file(value: dict[str, Any]) -> str:
    name = _text(value, "file", 1024)
    if not name.isascii() or not name.isprintable() or name.startswith("/") or "\\" in name \
            or name.endswith("/") or any(s in ("", ".", "..") for s in name.split("/")):
        raise refuse(f"the file name {name[:200]!r} is not a plain relative name")
    return name


def _whole(manifest: Manifest) -> None:
    """One entry per path and per file, the root a container, every parent and every
    auxiliary resource's subject present."""
    paths = {e.path: e for e in manifest.resources}
    if len(paths) != len(manifest.resources):
        raise refuse("the manifest lists a path twice")
    files = [e.file for e in manifest.resources] + [e.file for e in manifest.files]
    if len(set(files)) != len(files) or NAME in files:
        raise refuse("the manifest lists a file twice")
    root = paths.get("/")
    if root is None or root.kind != "container":
        raise refuse("the manifest lists no pod root")
    for entry in manifest.resources:
        target = Target("p", entry.path)
        needed = target.subject.path if target.aux else target.parent
        if needed is not None and (needed not in paths or (
                not target.aux and paths[needed].kind != "container")):
            raise refuse(f"{entry.path} is listed without {needed}")
