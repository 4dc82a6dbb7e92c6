"""Opening a pod archive as hostile input (every archive is, until checked).

Before a single file is read, the whole archive is checked against its central directory and
its manifest: a zip this reader understands (stored or deflated, nothing encrypted, no links,
no directory tricks), every name plain and relative, none twice, exactly the files the
manifest lists, no file larger than it may be, and no more bytes, unpacked, than a hundred
times what was sent (a zip bomb is refused by its own declarations; a file that inflates past
what it declared fails its size and CRC check as it is read). Each file read afterwards must
have the manifest's size and SHA-256. Nothing is ever written to the file system.
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
from typing import BinaryIO

from pod.resources.archive.manifest import (
    MAX_FILES,
    MAX_MANIFEST_BYTES,
    MAX_RESOURCES,
    NAME,
    Entry,
    Extra,
    Manifest,
    loads,
    refuse,
)

MAX_RATIO = 100
"""Unpacked bytes per archive byte, at most (plus :data:`SLACK`)."""
SLACK = 1024 * 1024
MAX_LOG_DAY = 64 * 1024 * 1024
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_READ = 1024 * 1024


class Archive:
    """A checked archive: its manifest, and each file read against it."""

    def __init__(self, source: BinaryIO, size: int, *, max_file: int):
        """Check the archive in ``source`` (``size`` bytes, seekable); ``max_file`` is the
        largest resource it may hold (the server's ``max_body_bytes``). Raises
        :class:`~pod.errors.ArchiveRefused`."""
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            raise refuse("it is not a zip file, or it is damaged") from None
        infos = self._zip.infolist()
        if len(infos) > MAX_RESOURCES + MAX_FILES + 1:
            raise refuse(f"it holds {len(infos)} files, more than an archive may")
        self._infos = {info.filename: info for info in infos}
        if len(self._infos) != len(infos):
            raise refuse("a file name appears twice in it")
        for info in infos:
            _plain(info)
        unpacked = sum(info.file_size for info in infos)
        if unpacked > MAX_RATIO * size + SLACK:
            raise refuse(f"its files would unpack to {unpacked} bytes from {size}: a zip bomb "
                         "is refused")
        manifest_info = self._infos.get(NAME)
        if manifest_info is None:
            raise refuse("it holds no manifest.json")
        if manifest_info.file_size > MAX_MANIFEST_BYTES:
            raise refuse("its manifest.json is too large")
        self.manifest: Manifest = loads(self._read(manifest_info, manifest_info.file_size))
        self._agree(max_file)

    def _agree(self, max_file: int) -> None:
        """The files are exactly those the manifest lists, of the sizes it says."""
        listed: list[Entry | Extra] = [*self.manifest.resources, *self.manifest.files]
        names = {e.file for e in listed}
        extra = sorted(set(self._infos) - names - {NAME})
        if extra:
            raise refuse(f"it holds {extra[0][:200]!r}, which its manifest does not list")
        for entry in listed:
            info = self._infos.get(entry.file)
            if info is None:
                raise refuse(f"{entry.file[:200]} is listed in its manifest but missing")
            if info.file_size != entry.size:
                raise refuse(f"{entry.file[:200]} is not of the size its manifest says")
            most = max_file if isinstance(entry, Entry) else MAX_LOG_DAY
            if entry.size > most:
                raise refuse(f"{entry.file[:200]} is {entry.size} bytes, more than the "
                             f"{most} this server takes in one resource")

    def read(self, entry: Entry | Extra) -> bytes:
        """The bytes of a file the manifest lists, checked against its size and SHA-256."""
        data = self._read(self._infos[entry.file], entry.size)
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise refuse(f"{entry.file[:200]} does not match its checksum (the archive is "
                         "damaged or was changed)")
        return data

    def _read(self, info: zipfile.ZipInfo, size: int) -> bytes:
        """At most ``size`` bytes of a file, refusing one that holds more or fails its CRC."""
        out = bytearray()
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(min(_READ, size + 1 - len(out))):
                    out += chunk
                    if len(out) > size:
                        raise refuse(f"{info.filename[:200]} holds more than it declares")
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
            raise refuse(f"{info.filename[:200]} is damaged") from None
        if len(out) != size:
            raise refuse(f"{info.filename[:200]} holds less than it declares")
        return bytes(out)

    def close(self) -> None:
        self._zip.close()


def _plain(info: zipfile.ZipInfo) -> None:
    """A regular, unencrypted file, stored or deflated, under a plain relative name."""
    name = info.filename
    shown = repr(name[:200])
    if info.flag_bits & 0x1:
        raise refuse(f"{shown} is encrypted")
    if info.compress_type not in _METHODS:
        raise refuse(f"{shown} is compressed in a way this server does not read")
    if info.is_dir() or stat.S_ISLNK(info.external_attr >> 16) or \
            stat.S_IFMT(info.external_attr >> 16) not in (0, stat.S_IFREG):
        raise refuse(f"{shown} is not a plain file")
    if not name.isascii() or not name.isprintable() or name.startswith("/") or "\\" in name \
            or any(s in ("", ".", "..") for s in name.split("/")) or len(name) > 1024:
        raise refuse(f"the file name {shown} is not a plain relative name")
