"""Work a community app repeats while it runs (refreshes, runs, issuance)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable


@contextlib.asynccontextmanager
async def repeating(job: Callable[[], Awaitable[object]], seconds: float, *, at_once: bool,
                    log: logging.Logger, failed: str) -> AsyncIterator[None]:
    """``job`` run every ``seconds`` in the background (the first time at once when
    ``at_once``, else after ``seconds``) for as long as the block runs; a failure is logged
    as ``failed`` and the next run tried."""
    async def loop() -> None:
        if not at_once:
            await asyncio.sleep(seconds)
        while True:
            try:
                await job()
            except Exception:  # logged; the next run is tried
                log.exception(failed)
            await asyncio.sleep(seconds)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
