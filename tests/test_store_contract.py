"""The storage contract (pod/store/base.py), run against every backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from pod.errors import VersionConflict
from pod.store.base import ABSENT, PodRow
from pod.store.sqlite import SQLiteBackend

BACKENDS: dict[str, Callable[[Path], object]] = {
    "sqlite": lambda d: SQLiteBackend(d / "store.db"),
}

P1, P2 = b"p" * 16, b"q" * 16


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, tmp_path: Path):
    b = BACKENDS[request.param](tmp_path)
    yield b
    asyncio.run(b.close())


def run(coro):
    return asyncio.run(coro)


def test_get_put_delete_scoped_by_pod(backend) -> None:
    async def go():
        async with backend.write(P1) as tx:
            await tx.put(b"k", b"v1", b"ver1")
        async with backend.read(P1) as r:
            rec = await r.get(b"k")
            assert (rec.value, rec.version) == (b"v1", b"ver1")
        async with backend.read(P2) as r:
            assert await r.get(b"k") is None
        async with backend.write(P1) as tx:
            assert await tx.delete(b"k") is True
            assert await tx.delete(b"k") is False
        async with backend.read(P1) as r:
            assert await r.get(b"k") is None

    run(go())


def test_transaction_is_atomic_and_rolls_back(backend) -> None:
    async def go():
        with pytest.raises(RuntimeError):
            async with backend.write(P1) as tx:
                await tx.put(b"a", b"1", b"v")
                await tx.put(b"b", b"2", b"v")
                raise RuntimeError("boom")
        async with backend.read(P1) as r:
            assert await r.get(b"a") is None and await r.get(b"b") is None

    run(go())


def test_expected_versions(backend) -> None:
    async def go():
        async with backend.write(P1) as tx:
            await tx.put(b"k", b"1", b"v1", expect=ABSENT)
        with pytest.raises(VersionConflict):
            async with backend.write(P1) as tx:
                await tx.put(b"k", b"2", b"v2", expect=ABSENT)
        with pytest.raises(VersionConflict):
            async with backend.write(P1) as tx:
                await tx.put(b"k", b"2", b"v2", expect=b"stale")
        async with backend.write(P1) as tx:
            await tx.put(b"k", b"2", b"v2", expect=b"v1")
        with pytest.raises(VersionConflict):
            async with backend.write(P1) as tx:
                await tx.delete(b"k", expect=b"v1")
        async with backend.read(P1) as r:
            assert (await r.get(b"k")).version == b"v2"

    run(go())


def test_concurrent_transactions_serialise(backend) -> None:
    async def bump():
        async with backend.write(P1) as tx:
            rec = await tx.get(b"n")
            n = int(rec.value) if rec else 0
            await asyncio.sleep(0)  # give another writer every chance to interleave
            await tx.put(b"n", str(n + 1).encode(), b"v")

    async def go():
        await asyncio.gather(*(bump() for _ in range(50)))
        async with backend.read(P1) as r:
            assert (await r.get(b"n")).value == b"50"

    run(go())


def test_pods_keyring_and_drop(backend) -> None:
    async def go():
        await backend.create_pod(PodRow(P1, b"wrapped1"), b"index1")
        with pytest.raises(VersionConflict):
            await backend.create_pod(PodRow(P2, b"wrapped2"), b"index1")
        assert await backend.find_pod(b"index1") == PodRow(P1, b"wrapped1")
        assert await backend.find_pod(b"nope") is None
        await backend.set_keys({"server": b"s1"}, {P1: b"rewrapped"})
        assert await backend.get_key("server") == b"s1"
        assert [r async for r in backend.pods()] == [PodRow(P1, b"rewrapped")]
        async with backend.write(P1) as tx:
            await tx.put(b"k", b"v", b"ver")
        await backend.drop_pod(P1)
        assert await backend.find_pod(b"index1") is None
        async with backend.read(P1) as r:
            assert await r.get(b"k") is None

    run(go())
