"""The storage contract (pod/store/base.py), run against every backend: the embedded SQLite
file and a PostgreSQL database of the test's own (tests/postgres.py)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from pod.errors import VersionConflict
from pod.store.backends import open_backend
from pod.store.base import ABSENT, Append, CopyableBackend, PodRow, Reader, Record
from tests.postgres import fresh_database

P1, P2 = b"p" * 16, b"q" * 16

Opener = Callable[[], Awaitable[CopyableBackend]]
Test = Callable[[CopyableBackend], Awaitable[None]]


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens the backend under test (in the test's own event loop, as a server would)."""
    if request.param == "sqlite":
        yield lambda: open_backend(str(tmp_path / "store.db"))
    else:
        with fresh_database() as url:
            yield lambda: open_backend(url)


def run(opener: Opener, test: Test) -> None:
    async def go() -> None:
        backend = await opener()
        try:
            await test(backend)
        finally:
            await backend.close()

    asyncio.run(go())


def test_get_put_delete_scoped_by_pod(opener: Opener) -> None:
    async def go(backend: CopyableBackend) -> None:
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

    run(opener, go)


def test_transaction_is_atomic_and_rolls_back(opener: Opener) -> None:
    async def go(backend: CopyableBackend) -> None:
        with pytest.raises(RuntimeError):
            async with backend.write(P1) as tx:
                await tx.put(b"a", b"1", b"v")
                await tx.put(b"b", b"2", b"v")
                raise RuntimeError("boom")
        async with backend.read(P1) as r:
            assert await r.get(b"a") is None and await r.get(b"b") is None

    run(opener, go)


def test_expected_versions(opener: Opener) -> None:
    async def go(backend: CopyableBackend) -> None:
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

    run(opener, go)


def test_append_many_adds_where_nothing_is_after_what_it_names(opener: Opener) -> None:
    """``append_many``: one commit for many pods; each item only where no record is and, with
    ``after``, only if that record exists; which were stored comes back in order."""
    P3 = b"r" * 16

    async def go(backend: CopyableBackend) -> None:
        other = await opener()
        try:
            async with backend.write(P1) as tx:
                await tx.put(b"j0", b"first", b"v0")
            async with backend.write(P2) as tx:
                await tx.put(b"taken", b"kept", b"v0")
            stored = await backend.append_many([
                Append(P1, b"j1", b"second", b"v1", after=b"j0"),  # after an existing one
                Append(P2, b"taken", b"lost", b"v1"),  # a record is there already
                Append(P3, b"j1", b"orphan", b"v1", after=b"j0"),  # P3 has no j0
            ])
            assert stored == [True, False, False]
            async with other.read(P1) as r:  # committed: another connection sees it
                assert await r.get(b"j1") == Record(b"second", b"v1")
            async with other.read(P2) as r:
                assert await r.get(b"taken") == Record(b"kept", b"v0")
            async with other.read(P3) as r:
                assert await r.get(b"j1") is None
            assert await backend.append_many([]) == []
            with pytest.raises(ValueError):
                await backend.append_many([Append(P1, b"a", b"1", b"v"),
                                           Append(P1, b"b", b"2", b"v")])
            async with other.read(P1) as r:
                assert await r.get(b"a") is None and await r.get(b"b") is None
        finally:
            await other.close()

    run(opener, go)


def test_append_many_waits_for_each_pods_other_writes(opener: Opener) -> None:
    """An append and a transaction of the same pod are serialised: the append sees the
    transaction's record as there (refused), or the transaction sees the appended one."""
    async def writer(backend: CopyableBackend) -> str:
        async with backend.write(P1) as tx:
            seen = await tx.get(b"k")
            await asyncio.sleep(0.01)  # hold the pod's write open
            if seen is None:
                await tx.put(b"k", b"tx", b"v1")
                return "tx"
            return "append"

    async def go(backend: CopyableBackend) -> None:
        for _ in range(3):
            async with backend.write(P1) as tx:
                await tx.delete(b"k")
            first = asyncio.ensure_future(writer(backend))
            await asyncio.sleep(0.001)
            stored = await backend.append_many([Append(P1, b"k", b"appended", b"v2")])
            winner = await first
            async with backend.read(P1) as r:
                value = (await r.get(b"k")).value
            assert (winner, stored, value) in (("tx", [False], b"tx"),
                                               ("append", [True], b"appended"))

    run(opener, go)


def test_concurrent_transactions_serialise(opener: Opener) -> None:
    async def bump(backend: CopyableBackend) -> None:
        async with backend.write(P1) as tx:
            rec = await tx.get(b"n")
            n = int(rec.value) if rec else 0
            await asyncio.sleep(0)  # give another writer every chance to interleave
            await tx.put(b"n", str(n + 1).encode(), b"v")

    async def go(backend: CopyableBackend) -> None:
        await asyncio.gather(*(bump(backend) for _ in range(50)))
        async with backend.read(P1) as r:
            assert (await r.get(b"n")).value == b"50"

    run(opener, go)


def test_pods_keyring_and_drop(opener: Opener) -> None:
    async def go(backend: CopyableBackend) -> None:
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

    run(opener, go)


def test_replace_pod_gives_the_name_to_rows_written_before(opener: Opener) -> None:
    """An import writes a pod under an id no name points at, then takes the name over in one
    commit: the old rows go, the new ones were there all along."""
    async def go(backend: CopyableBackend) -> None:
        await backend.create_pod(PodRow(P1, b"wrapped1"), b"index1")
        async with backend.write(P1) as tx:
            await tx.put(b"old", b"1", b"v")
        async with backend.write(P2) as tx:  # staged: no name points at P2 yet
            await tx.put(b"new", b"2", b"v")
        assert await backend.find_pod(b"index1") == PodRow(P1, b"wrapped1")
        await backend.replace_pod(P1, PodRow(P2, b"wrapped2"))
        assert await backend.find_pod(b"index1") == PodRow(P2, b"wrapped2")
        async with backend.read(P1) as r:
            assert await r.get(b"old") is None
        async with backend.read(P2) as r:
            assert (await r.get(b"new")).value == b"2"
        with pytest.raises(VersionConflict):  # P1 is no pod's any more
            await backend.replace_pod(P1, PodRow(b"r" * 16, b"wrapped3"))
        assert await backend.find_pod(b"index1") == PodRow(P2, b"wrapped2")

    run(opener, go)


def test_a_write_is_durable_and_visible_elsewhere_when_it_returns(opener: Opener) -> None:
    """Once ``write`` returns, another connection to the store (another process's) sees it;
    a write that raised left nothing behind, there either."""
    async def go(backend: CopyableBackend) -> None:
        other = await opener()
        try:
            async with backend.write(P1) as tx:
                await tx.put(b"k", b"v1", b"ver1")
            async with other.read(P1) as r:
                assert (await r.get(b"k")) is not None
            with pytest.raises(VersionConflict):
                async with backend.write(P1) as tx:
                    await tx.put(b"j", b"v", b"ver")
                    await tx.put(b"k", b"v2", b"ver2", expect=b"stale")
            async with other.read(P1) as r:
                assert await r.get(b"j") is None
                assert (await r.get(b"k")).value == b"v1"
        finally:
            await other.close()

    run(opener, go)


def test_a_read_inside_a_write_is_served(opener: Opener) -> None:
    """A read made while a write transaction is open (a request checking something meanwhile)
    is served at once, seeing what was committed before."""
    async def go(backend: CopyableBackend) -> None:
        async with backend.write(P1) as tx:
            await tx.put(b"a", b"1", b"v")
            async with backend.read(P1) as r:
                assert await r.get(b"a") is None
        async with backend.read(P1) as r:
            assert (await r.get(b"a")).value == b"1"

    run(opener, go)


def test_a_read_block_sees_one_snapshot(opener: Opener) -> None:
    """Every read of one ``read`` block sees the store as it was at its first read, whatever
    commits meanwhile (a listing reads a container and then its member pages: a write that
    commits in between must not show half of each). Nested blocks of the same task share
    it; a block begun after the commit sees the commit."""
    async def go(backend: CopyableBackend) -> None:
        async with backend.write(P1) as tx:
            await tx.put(b"head", b"pages=1", b"v1")
            await tx.put(b"page0", b"a b c d", b"v1")
        async with backend.read(P1) as r:
            assert (await r.get(b"head")).value == b"pages=1"
            async with backend.write(P1) as tx:  # another request's write commits
                await tx.put(b"head", b"pages=2", b"v2")
                await tx.put(b"page0", b"a c", b"v2")
                await tx.put(b"page1", b"b d", b"v2")
            async with backend.read(P2) as nested:  # (another pod: the same snapshot)
                assert await nested.get(b"head") is None
            assert (await r.get(b"page0")).value == b"a b c d"
            assert await r.get(b"page1") is None
            assert await r.versions([b"head", b"page1"]) == [b"v1", None]
            assert [x and x.value for x in await r.get_many([b"head", b"page1"])] \
                == [b"pages=1", None]
            seen = await asyncio.create_task(_read(backend, b"head"))  # another task's block
        assert seen == b"pages=2"
        async with backend.read(P1) as r:
            assert (await r.get(b"page1")).value == b"b d"

    run(opener, go)


async def _get(reader: Reader, key: bytes) -> bytes | None:
    found = await reader.get(key)
    return found.value if found else None


async def _read(backend: CopyableBackend, key: bytes) -> bytes | None:
    """``key`` of P1 read in a block of its own."""
    async with backend.read(P1) as reader:
        return await _get(reader, key)


def test_reads_of_other_tasks_begun_later_see_later_commits(opener: Opener) -> None:
    """A read block of one task, held open across awaits, never hands its snapshot to a read
    begun by another task after a commit (a client that got its 201 reads what it wrote)."""
    async def go(backend: CopyableBackend) -> None:
        async with backend.write(P1) as tx:
            await tx.put(b"k", b"old", b"v1")
        held, release = asyncio.Event(), asyncio.Event()

        async def slow_reader() -> bytes | None:
            async with backend.read(P1) as r:
                first = await _get(r, b"k")
                held.set()
                await release.wait()
                assert await _get(r, b"k") == first  # its own snapshot throughout
                return first

        slow = asyncio.create_task(slow_reader())
        await held.wait()
        async with backend.write(P1) as tx:
            await tx.put(b"k", b"new", b"v2")

        assert await asyncio.create_task(_read(backend, b"k")) == b"new"
        release.set()
        assert await slow == b"old"

    run(opener, go)


def test_many_read_blocks_held_at_once_open_a_bounded_number_of_files(opener: Opener) -> None:
    """Two hundred requests each holding a read block across a slow await (a remote group
    document being fetched) are all answered, and the store opens a bounded number of files
    for them (SQLite: a connection per block, at most 16 at once; PostgreSQL: its pool)."""
    def files() -> int:
        return len(os.listdir("/proc/self/fd"))

    async def go(backend: CopyableBackend) -> None:
        async with backend.write(P1) as tx:
            await tx.put(b"d", b"doc", b"v")
        before, most = files(), 0

        async def request() -> bytes | None:
            nonlocal most
            async with backend.read(P1) as r:
                value = await _get(r, b"d")
                most = max(most, files())
                await asyncio.sleep(0.02)
                return value

        answers = await asyncio.wait_for(asyncio.gather(*(request() for _ in range(200))), 30)
        assert answers == [b"doc"] * 200
        assert most - before <= 40, (before, most)

    run(opener, go)


def test_reads_nested_in_reads_never_wait_for_each_other(opener: Opener) -> None:
    """Many requests at once, each reading one pod while it reads another (an access decision
    reading a user's grants): none waits for a connection another holds."""
    async def request(backend: CopyableBackend) -> bytes:
        async with backend.read(P1) as outer:
            await asyncio.sleep(0.01)  # every request holds its read at once
            async with backend.read(P2) as inner:
                assert (await inner.get(b"g")).value == b"grant"
            return (await outer.get(b"d")).value

    async def go(backend: CopyableBackend) -> None:
        async with backend.write(P1) as tx:
            await tx.put(b"d", b"doc", b"v")
        async with backend.write(P2) as tx:
            await tx.put(b"g", b"grant", b"v")
        answers = await asyncio.wait_for(
            asyncio.gather(*(request(backend) for _ in range(40))), 10)
        assert answers == [b"doc"] * 40

    run(opener, go)


def test_dump_and_load_move_every_row_as_it_is(opener: Opener, tmp_path: Path) -> None:
    async def go(backend: CopyableBackend) -> None:
        await backend.create_pod(PodRow(P1, b"wrapped1"), b"index1")
        await backend.set_keys({"server": b"s1"}, {})
        for pod in (P2, P1):
            async with backend.write(pod) as tx:
                for n in range(3):
                    await tx.put(bytes([n]) * 16, b"value" + pod, b"ver")
        rows = [row async for row in backend.dump()]
        assert [t for t, _ in rows] == ["keyring", "pods", *["records"] * 6]
        assert rows[1][1] == (P1, b"index1", b"wrapped1")
        assert [r[:2] for _, r in rows[2:]] == sorted(r[:2] for _, r in rows[2:])  # key order
        copy = await open_backend(str(tmp_path / "copy.db"))
        try:
            async def source():
                for item in rows:
                    yield item

            await copy.load(source())
            assert [row async for row in copy.dump()] == rows
            assert await copy.find_pod(b"index1") == PodRow(P1, b"wrapped1")
            await copy.clear()
            assert [row async for row in copy.dump()] == []
        finally:
            await copy.close()

    run(opener, go)


def test_a_mark_is_given_once_to_every_process_until_it_expires(opener: Opener) -> None:
    """``mark_once``: the first mark of a key wins, in whichever process (here two backends
    open on one store) makes it; a mark that expired may be made again."""
    async def go() -> None:
        one, two = await opener(), await opener()
        try:
            now = time.time()
            assert await one.mark_once(b"jti-1", now + 60) is True
            assert await two.mark_once(b"jti-1", now + 60) is False
            assert await one.mark_once(b"jti-1", now + 60) is False
            assert await two.mark_once(b"jti-2", now + 60) is True
            assert await one.mark_once(b"jti-old", now - 1) is True  # already expired
            assert await two.mark_once(b"jti-old", now + 60) is True
            assert await one.mark_once(b"jti-old", now + 60) is False
            # concurrent marks of one key: exactly one wins
            won = await asyncio.gather(*(b.mark_once(b"race", now + 60)
                                         for _ in range(10) for b in (one, two)))
            assert won.count(True) == 1
        finally:
            await one.close()
            await two.close()

    asyncio.run(go())


def test_events_are_shared_kept_newest_first_and_cleared_by_prefix(opener: Opener) -> None:
    """``add_event``/``events``/``clear_events``: what one process (backend) notes, another
    reads; at most ``keep`` per key, the newest; expired ones are not given; a prefix clears
    every key it begins."""
    async def go() -> None:
        one, two = await opener(), await opener()
        try:
            now = time.time()
            for i in range(5):
                await (one if i % 2 else two).add_event(b"g" * 16 + b"a" * 16, now + i,
                                                        now + 100, keep=3)
            assert await one.events(b"g" * 16 + b"a" * 16, now) == [now + 2, now + 3, now + 4]
            await two.add_event(b"g" * 16 + b"b" * 16, now, now + 100, keep=3)
            await two.add_event(b"h" * 16, now - 10, now - 1, keep=3)  # expired already
            assert await one.events(b"h" * 16, now) == []
            assert await one.events(b"g" * 16 + b"b" * 16, now) == [now]
            await one.clear_events(b"g" * 16)
            assert await two.events(b"g" * 16 + b"a" * 16, now) == []
            assert await two.events(b"g" * 16 + b"b" * 16, now) == []
        finally:
            await one.close()
            await two.close()

    asyncio.run(go())


def test_versions_of_many_keys_at_once(opener: Opener) -> None:
    """``Reader.versions``: each key's version in the order asked, ``None`` for a missing one,
    scoped by pod."""
    async def go(backend: CopyableBackend) -> None:
        async with backend.write(P1) as tx:
            await tx.put(b"a", b"1", b"va")
            await tx.put(b"b", b"2", b"vb")
        async with backend.write(P2) as tx:
            await tx.put(b"c", b"3", b"vc")
        async with backend.read(P1) as r:
            assert await r.versions([b"b", b"c", b"a", b"b"]) == [b"vb", None, b"va", b"vb"]
            assert await r.versions([]) == []

    run(opener, go)


def test_records_of_many_keys_at_once(opener: Opener) -> None:
    """``Reader.get_many``: each key's record in the order asked, ``None`` for a missing one,
    scoped by pod, for a few keys and for many (more than one query's worth), inside a write
    transaction too, where it sees the transaction's own writes."""
    async def go(backend: CopyableBackend) -> None:
        many = [bytes([i, j]) for i in range(3) for j in range(250)]
        async with backend.write(P1) as tx:
            for key in many:
                await tx.put(key, key * 3, key + b"v")
        async with backend.write(P2) as tx:
            await tx.put(b"c", b"3", b"vc")
        async with backend.read(P1) as r:
            few = await r.get_many([many[1], b"c", many[0], many[1]])
            assert few == [Record(many[1] * 3, many[1] + b"v"), None,
                           Record(many[0] * 3, many[0] + b"v"),
                           Record(many[1] * 3, many[1] + b"v")]
            assert await r.get_many([]) == []
            found = await r.get_many([*reversed(many), b"nope"])
            assert found == [*(Record(k * 3, k + b"v") for k in reversed(many)), None]
        async with backend.write(P1) as tx:
            await tx.put(b"new", b"n", b"vn")
            assert await tx.get_many([b"new", many[5]]) == [
                Record(b"n", b"vn"), Record(many[5] * 3, many[5] + b"v")]

    run(opener, go)


def test_events_are_bounded_in_all_the_oldest_going_first(
        opener: Opener, monkeypatch: pytest.MonkeyPatch) -> None:
    """However many keys clients make up (addresses, names), the events kept stay bounded:
    past the backend's bound the oldest go first (here the bound is lowered to 5)."""
    import pod.store.postgres as postgres
    import pod.store.sqlite as sqlite

    for module in (sqlite, postgres):
        monkeypatch.setattr(module, "MAX_EVENTS", 5)
        monkeypatch.setattr(module, "PURGE_EVERY", 10)

    async def go(backend: CopyableBackend) -> None:
        now = time.time()
        for i in range(20):
            await backend.add_event(bytes([i]) * 16, now + i, now + 1000, keep=3)
        assert await backend.events(bytes([0]) * 16, now) == []  # among the oldest: gone
        assert await backend.events(bytes([19]) * 16, now) == [now + 19]

    run(opener, go)


ODD = [b"\x00", b"\xff\xfe\x00bin\x80", b"", b"plain", bytes(range(256))]
"""Message payloads: NUL bytes, bytes that are no UTF-8, an empty one."""


def test_messages_are_numbered_in_order_and_read_after_a_cursor(opener: Opener) -> None:
    """``publish``/``messages``/``last_message``: increasing numbers, the messages after a
    cursor in order and intact, at most ``limit``, none expired."""
    async def go(backend: CopyableBackend) -> None:
        now = time.time()
        assert await backend.last_message() == 0
        assert await backend.messages(0, now) == []
        seqs = [await backend.publish(data, now + 60) for data in ODD]
        assert seqs[0] > 0 and seqs == sorted(set(seqs))
        assert await backend.last_message() == seqs[-1]
        assert await backend.messages(0, now) == list(zip(seqs, ODD, strict=True))
        assert await backend.messages(seqs[1], now) == list(zip(seqs[2:], ODD[2:], strict=True))
        assert await backend.messages(seqs[1], now, limit=2) == \
            list(zip(seqs[2:4], ODD[2:4], strict=True))
        assert await backend.messages(seqs[-1], now) == []
        old = await backend.publish(b"expired", now - 1)
        new = await backend.publish(b"fresh", now + 60)
        assert seqs[-1] < old < new == await backend.last_message()
        assert await backend.messages(seqs[-1], now) == [(new, b"fresh")]
        assert await backend.messages(seqs[-1], now - 2) == [(old, b"expired"), (new, b"fresh")]
        assert await backend.messages(0, now + 61) == []  # every one expired by then

    run(opener, go)


def test_expired_messages_go_and_the_last_number_stays(
        opener: Opener, monkeypatch: pytest.MonkeyPatch) -> None:
    """Expired messages are deleted now and then (here at every 4th publish), the oldest go
    beyond the backend's bound (here 3), and ``last_message`` never goes back: no number is
    given twice."""
    import pod.store.postgres as postgres
    import pod.store.sqlite as sqlite

    for module in (sqlite, postgres):
        monkeypatch.setattr(module, "PURGE_EVERY", 4)
        monkeypatch.setattr(module, "MAX_MESSAGES", 3)

    async def go(backend: CopyableBackend) -> None:
        now = time.time()
        seqs = [await backend.publish(b"m%d" % i, now - 1) for i in range(4)]  # 4th purges
        assert await backend.messages(0, 0) == []  # (an expired message, read as of 1970)
        assert await backend.last_message() == seqs[-1]
        seqs += [await backend.publish(b"m%d" % i, now + 60) for i in range(4, 12)]
        assert [s for s, _ in await backend.messages(0, 0)] == seqs[-3:]  # at the 12th
        assert await backend.last_message() == seqs[-1]
        assert await backend.publish(b"next", now + 60) > seqs[-1]

    run(opener, go)


def test_expired_messages_are_purged_on_demand_and_the_last_number_stays(
        opener: Opener) -> None:
    """``purge_messages`` deletes exactly the expired messages (however few were published
    since), and no number is given again afterwards."""
    async def go(backend: CopyableBackend) -> None:
        now = time.time()
        old = [await backend.publish(b"old%d" % i, now - 1) for i in range(2)]
        kept = await backend.publish(b"kept", now + 60)
        assert await backend.purge_messages(now) == 2
        assert await backend.messages(0, 0) == [(kept, b"kept")]  # (read as of 1970)
        assert await backend.purge_messages(now) == 0
        assert await backend.last_message() == kept > old[-1]
        assert await backend.publish(b"next", now + 60) > kept

    run(opener, go)


def test_messages_reach_every_process_none_skipped_none_twice(opener: Opener) -> None:
    """Two processes (backends on one store) publish at once while a third reads with its
    cursor, again and again: it gets every message once, in order, with the numbers the
    publishers were given (ten rounds of 2 × 50: a message committed after a higher-numbered
    one would be skipped only now and then)."""
    async def read(reader: CopyableBackend, cursor: int, now: float,
                   finished: asyncio.Event) -> list[tuple[int, bytes]]:
        got: list[tuple[int, bytes]] = []
        while True:
            done = finished.is_set()  # (before the read: then it sees every one)
            batch = await reader.messages(cursor, now, limit=7)
            got.extend(batch)
            if batch:
                cursor = batch[-1][0]
            elif done:
                return got
            await asyncio.sleep(0)

    async def publish(backends: list[CopyableBackend], now: float,
                      finished: asyncio.Event) -> list[tuple[int, bytes]]:
        jobs = [(b, b"%d-%d\x00\xff" % (n, i)) for i in range(50)
                for n, b in enumerate(backends)]
        sent = await asyncio.gather(*(b.publish(data, now + 60) for b, data in jobs))
        finished.set()
        return list(zip(sent, [data for _, data in jobs], strict=True))

    async def go() -> None:
        one, two, reader = await opener(), await opener(), await opener()
        try:
            now = time.time()
            assert await reader.last_message() == 0
            cursor = await one.publish(b"hello", now + 60)
            assert await two.messages(0, now) == [(cursor, b"hello")]
            assert await two.last_message() == cursor
            for _ in range(10):
                finished = asyncio.Event()
                sent, got = await asyncio.wait_for(asyncio.gather(
                    publish([one, two], now, finished), read(reader, cursor, now, finished)), 30)
                assert len({seq for seq, _ in sent}) == 100
                assert got == sorted(sent)  # each once, in order, numbered as published
                cursor = got[-1][0]
                assert await reader.last_message() == cursor
        finally:
            for backend in (one, two, reader):
                await backend.close()

    asyncio.run(go())


def test_messages_marks_and_events_are_never_copied(opener: Opener) -> None:
    """The ephemeral feed, marks and events are not the store's rows: ``dump`` (what ``store
    copy`` moves) holds none of them, and a store with nothing else counts as empty."""
    async def go(backend: CopyableBackend) -> None:
        now = time.time()
        await backend.publish(b"note", now + 60)
        await backend.mark_once(b"jti", now + 60)
        await backend.add_event(b"e" * 16, now, now + 60, keep=3)
        assert [row async for row in backend.dump()] == []
        await backend.set_keys({"server": b"s1"}, {})
        assert [row async for row in backend.dump()] == [("keyring", ("server", b"s1"))]
        await backend.clear()
        assert await backend.messages(0, now) != []  # (clear leaves the feed alone, too)

    run(opener, go)
