"""Fresh PostgreSQL databases for tests: each test its own, made with a random name and dropped
after it.

The server is ``COMMONPOD_TEST_POSTGRES`` (default ``postgresql://127.0.0.1:5432/test``, trust
auth, as the current user or else ``postgres``). A test that needs it skips, saying why, when
it cannot be reached — and fails instead under ``CI=true``, where it must be there (.ci/run
starts it).

``COMMONPOD_TEST_STORE=postgresql`` makes the shared live-server fixtures (tests/conftest.py)
keep their store in such a database: .ci/run runs a slice of the suite a second time so.
"""

from __future__ import annotations

import asyncio
import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

ADMIN = os.environ.get("COMMONPOD_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")


def wants_postgres() -> bool:
    """Whether the live-server fixtures are to use PostgreSQL (``COMMONPOD_TEST_STORE``)."""
    return os.environ.get("COMMONPOD_TEST_STORE", "sqlite") == "postgresql"


async def execute(url: str, *statements: str) -> list[list[tuple[object, ...]]]:
    """Run ``statements`` on one connection to ``url``; the rows each returned."""
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        return [[tuple(r) for r in await conn.fetch(sql)] for sql in statements]
    finally:
        await conn.close()


def run_sql(url: str, *statements: str) -> list[list[tuple[object, ...]]]:
    """:func:`execute`, from synchronous code."""
    return asyncio.run(execute(url, *statements))


def fetch(url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    """The rows of one query with parameters (``$1``…), from synchronous code."""
    import asyncpg

    async def go() -> list[tuple[object, ...]]:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(go())


@functools.cache
def _admin() -> str | None:
    try:
        import asyncpg  # noqa: F401  (the test extra installs it)
    except ImportError:
        return None
    parts = urlsplit(ADMIN)
    candidates = [ADMIN]
    if not parts.username:
        candidates.append(parts._replace(netloc="postgres@" + parts.netloc).geturl())
    for url in candidates:
        try:
            run_sql(url, "SELECT 1")
            return url
        except Exception:  # noqa: S112 (try the next way in; none: skipped, saying why)
            continue
    return None


def admin_url() -> str:
    """A URL to the PostgreSQL server's admin database; skips (fails under CI) without it."""
    url = _admin()
    if url is None:
        reason = (f"PostgreSQL is not reachable at {ADMIN} (set COMMONPOD_TEST_POSTGRES, or "
                  "start it: pg_ctlcluster --skip-systemctl-redirect 15 main start), or asyncpg "
                  "is not installed (pip install -e '.[test]')")
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database (random name), dropped afterwards; yields its URL."""
    admin = admin_url()
    name = f"cp_test_{uuid.uuid4().hex[:16]}"
    run_sql(admin, f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(admin)._replace(path="/" + name).geturl()
    finally:
        run_sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")
