"""Container membership (LDP §5.2.1) kept in sealed pages, so that adding a member costs the
same in a container of ten members as in one of a hundred thousand.

A container's members are spread over ``pages`` records by a hash of their name; a page that
outgrows :data:`PAGE_MAX` doubles the page count (amortised O(1) per insert). Page records are
named ``{path}\\x00{n}``, which no canonical path can spell, and are blinded and sealed like
every other record. Listing reads every page: one read per 256–512 members.
"""

from __future__ import annotations

import hashlib

from pod.resources.records import CONTAINER, Resource
from pod.store.sealed import SealedReader, SealedTransaction

PAGE_MAX = 512


def page_name(path: str, page: int) -> str:
    return f"{path}\x00{page}"


def page_of(name: str, pages: int) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % pages


async def _page(reader: SealedReader, path: str, page: int) -> list[str]:
    opened = await reader.get(page_name(path, page))
    return opened.data.decode().split("\n") if opened and opened.data else []


async def _write(tx: SealedTransaction, path: str, page: int, names: list[str]) -> None:
    if names:
        await tx.put(page_name(path, page), "\n".join(names).encode())
    else:
        await tx.delete(page_name(path, page))


async def members(reader: SealedReader, path: str, container: Resource) -> list[str]:
    """Every member name of the container at ``path`` (names end in ``/`` for containers)."""
    if not container.count:
        return []
    out: list[str] = []
    for page in range(container.pages):
        out.extend(await _page(reader, path, page))
    return out


async def documents(reader: SealedReader, path: str, limit: int) -> list[str]:
    """Paths of the non-container members at any depth below the container at ``path``, depth
    first in member order, at most ``limit`` of them (none when ``path`` is no container)."""
    found: list[str] = []
    await _walk(reader, path, limit, found)
    return found


async def _walk(reader: SealedReader, path: str, limit: int, found: list[str]) -> None:
    opened = await reader.get(path)
    container = Resource.decode(opened.data, opened.version) if opened else None
    if container is None or container.kind != CONTAINER:
        return
    for name in await members(reader, path, container):
        if len(found) >= limit:
            return
        if name.endswith("/"):
            await _walk(reader, path + name, limit, found)
        else:
            found.append(path + name)


async def add(tx: SealedTransaction, path: str, container: Resource, name: str) -> bool:
    """Add ``name``; ``False`` if it was a member already. Updates ``container`` in memory."""
    page = page_of(name, container.pages)
    names = await _page(tx, path, page)
    if name in names:
        return False
    names.append(name)
    container.count += 1
    await _write(tx, path, page, names)
    if len(names) > PAGE_MAX:
        await _grow(tx, path, container)
    return True


async def remove(tx: SealedTransaction, path: str, container: Resource, name: str) -> bool:
    """Remove ``name``; ``False`` if it was not a member."""
    page = page_of(name, container.pages)
    names = await _page(tx, path, page)
    if name not in names:
        return False
    names.remove(name)
    container.count -= 1
    await _write(tx, path, page, names)
    return True


async def drop(tx: SealedTransaction, path: str, container: Resource) -> None:
    """Delete every page of a container."""
    for page in range(container.pages):
        await tx.delete(page_name(path, page))


async def _grow(tx: SealedTransaction, path: str, container: Resource) -> None:
    everyone = await members(tx, path, container)
    await drop(tx, path, container)
    container.pages *= 2
    spread: list[list[str]] = [[] for _ in range(container.pages)]
    for name in everyone:
        spread[page_of(name, container.pages)].append(name)
    for page, names in enumerate(spread):
        await _write(tx, path, page, names)
