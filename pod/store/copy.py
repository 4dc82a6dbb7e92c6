"""Moving a deployment between backends: every sealed row copied as it is, then verified.

Nothing is opened or decrypted (no key is needed): the rows of the three tables are read in
one snapshot of the source, written into an empty target in one transaction, and then both
are read again and compared row for row. A copy that does not verify is removed again, so
the target is left as empty as it was found.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field

from pod.errors import StoreError
from pod.store.base import TABLES, Copyable, Row


class CopyRefused(StoreError):
    """A copy that was not made, or did not verify; the message says why."""


@dataclass
class CopySummary:
    """What a copy moved: rows per table, and the bytes they hold."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    bytes: int = 0

    def count(self, table: str, row: Row) -> None:
        self.rows[table] += 1
        self.bytes += sum(len(v) for v in row if isinstance(v, bytes))


async def is_empty(store: Copyable) -> bool:
    """Whether ``store`` holds no row at all."""
    async with aclosing(store.dump()) as rows:
        async for _ in rows:
            return False
    return True


async def copy_store(source: Copyable, target: Copyable) -> CopySummary:
    """Copy every row of ``source`` into the empty ``target`` and verify the copy row for row.
    Raises :class:`CopyRefused` when the target is not empty, the source is, or the copy
    differs (the source changed meanwhile: stop the servers that use it and copy again)."""
    if not await is_empty(target):
        raise CopyRefused("the target store is not empty; a copy goes only into an empty one")
    if await is_empty(source):
        raise CopyRefused("the source store is empty: nothing to copy")
    copied = CopySummary()

    async def counted() -> AsyncIterator[tuple[str, Row]]:
        async with aclosing(source.dump()) as rows:
            async for table, row in rows:
                copied.count(table, row)
                yield table, row

    await target.load(counted())
    problem = await _difference(source, target)
    if problem:
        await target.clear()
        raise CopyRefused(f"the copy does not match the source ({problem}); the target was "
                          "emptied again. Was the source written during the copy? Stop the "
                          "servers that use it and copy again")
    return copied


async def _difference(source: Copyable, target: Copyable) -> str | None:
    """Where the two stores first differ, in words, or ``None`` when every row is equal."""
    async with aclosing(source.dump()) as left, aclosing(target.dump()) as right:
        index = 0
        while True:
            a = await anext(left, None)
            b = await anext(right, None)
            if a is None and b is None:
                return None
            if a != b:
                where = (a or b or ("", ()))[0]
                return f"row {index + 1} differs, in table {where}"
            index += 1
