"""Opening the backend a store location names: a SQLite file, or a PostgreSQL database.

The PostgreSQL driver (asyncpg, the optional extra ``postgresql``) is imported only when a
``postgresql://`` location is opened, so the embedded default needs nothing beyond the base
install.
"""

from __future__ import annotations

from pod.errors import ConfigError
from pod.settings import is_postgres, sqlite_path
from pod.store.base import CopyableBackend
from pod.store.sqlite import SQLiteBackend


async def open_backend(location: str, durability: str = "full", *,
                       existing: bool = False, sqlite_mmap_mb: int = 0,
                       sqlite_cache_mb: int = 2) -> CopyableBackend:
    """The backend at ``location`` (a SQLite file path or a ``postgresql://`` URL), its schema
    brought up to date. With ``existing``, a SQLite file that does not exist yet is refused
    instead of made. SQLite reads ``sqlite_mmap_mb`` MiB memory-mapped, with a page cache of
    ``sqlite_cache_mb`` MiB. Raises :class:`ConfigError` when it cannot be used."""
    if is_postgres(location):
        try:
            from pod.store.postgres import PostgresBackend
        except ImportError:
            raise ConfigError("store: a PostgreSQL store needs the asyncpg driver: "
                              "pip install 'commonpod[postgresql]'") from None
        return await PostgresBackend.open(location, durability)
    path = sqlite_path(location)
    if existing and not path.is_file():
        raise ConfigError(f"no SQLite database at {path}")
    return SQLiteBackend(path, durability.upper(), mmap_mb=sqlite_mmap_mb,
                         cache_mb=sqlite_cache_mb)
