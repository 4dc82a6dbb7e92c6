"""Settings, read once and typed: defaults < ``settings.toml`` < ``COMMONPOD_*`` < flags.

The data directory holds ``settings.toml``, the SQLite database (unless ``store`` names another
SQLite file or a PostgreSQL database) and, unless ``master_key_file`` names another place, the
master key file ``master.key`` (mode 0600). Anything wrong makes the server refuse to start with
a clear message.
"""

from __future__ import annotations

import ipaddress
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pod.errors import ConfigError

SETTINGS_FILE = "settings.toml"
MASTER_KEY_FILE = "master.key"
DATABASE_FILE = "commonpod.db"
#: who may create an account on the sign-up page (``commonpod account create`` always works)
SIGNUP_POLICIES = ("open", "closed", "invite")
#: URL schemes of the ``store`` setting that name a PostgreSQL database
POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgres(store: str) -> bool:
    """Whether a store location (the ``store`` setting) names a PostgreSQL database."""
    return urlsplit(store).scheme in POSTGRES_SCHEMES


def redacted(store: str) -> str:
    """A store location fit to print: a password in it is replaced by ``***``."""
    url = urlsplit(store)
    if url.password is None:
        return store
    host = url.netloc.rpartition("@")[2]
    return url._replace(netloc=f"{url.username or ''}:***@{host}").geturl()


def sqlite_path(store: str) -> Path:
    """The SQLite file a store location names: a path, or ``sqlite:PATH``."""
    return Path(store.removeprefix("sqlite:")).expanduser()


def check_store(store: str) -> None:
    """Raise :class:`ConfigError` (naming the setting, never its password) when ``store`` is
    neither an absolute SQLite file path nor a usable ``postgresql://`` URL."""
    if is_postgres(store):
        url = urlsplit(store)
        try:
            port = url.port
        except ValueError:
            port = 0
        if url.fragment or port == 0 or not (url.hostname or "host=" in url.query):
            raise ConfigError(f"store {redacted(store)!r} is not a usable PostgreSQL URL "
                              "(postgresql://USER@HOST:PORT/DATABASE)")
        return
    if "://" in store:
        raise ConfigError(f"store {redacted(store)!r} must be a SQLite file path or a "
                          "postgresql:// URL")
    if not sqlite_path(store).is_absolute():
        raise ConfigError(f"store {store!r} must be an absolute path (or a postgresql:// URL)")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(base) / "commonpod"


@dataclass(frozen=True)
class Settings:
    """Everything the server reads from its configuration."""

    data_dir: Path
    base_url: str = "http://127.0.0.1:8000/"
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 25 * 1024 * 1024
    durability: str = "full"
    log_level: str = "info"
    allow_private_fetch: bool = False
    access_log_days: int = 365
    # seconds a count of anonymous reads may wait in memory before it is written (what a crash
    # can lose of them; identified requests wait at most a second)
    access_log_count_seconds: int = 30
    # reverse proxies whose X-Forwarded-For is believed (addresses or CIDR networks); none: the
    # header is ignored and the peer address is the client's
    trusted_proxies: tuple[str, ...] = ()
    master_key_file: Path | None = None  # absolute; None: ``master.key`` in the data directory
    header_timeout: int = 20  # seconds for a request head to arrive (pod/http/connection.py)
    body_timeout: int = 20  # seconds a request body may send nothing (and its grace period)
    body_min_rate: int = 500  # bytes/s a body must average after body_timeout (0: no minimum)
    max_connections: int = 1000  # open connections; requests beyond answer 503
    workers: int = 1  # server processes sharing the port and the store (`serve --workers`)
    max_pod_bytes: int = 0  # stored body bytes per pod (0: unlimited); `pod quota` overrides
    max_pod_resources: int = 0  # resources per pod (0: unlimited); `pod quota` overrides
    signup: str = "open"  # who may sign up on /.account/signup: open, closed or invite
    cache_pods: int = 50_000  # pods whose key, grants and type index stay in memory
    cache_acls: int = 10_000  # parsed ACL documents kept in memory
    sqlite_mmap_mb: int = 256  # MiB of the database file read through memory mapping (0: off)
    sqlite_cache_mb: int = 4  # MiB of SQLite page cache per connection
    # where the sealed store lives: "" for DATA_DIR/commonpod.db, another SQLite file (an
    # absolute path), or a PostgreSQL database (postgresql://USER@HOST:PORT/DATABASE)
    store: str = ""

    @property
    def master_key_path(self) -> Path:
        return self.master_key_file or self.data_dir / MASTER_KEY_FILE

    @property
    def store_location(self) -> str:
        """The store: a SQLite file path or a ``postgresql://`` URL (the default filled in)."""
        return self.store or str(self.data_dir / DATABASE_FILE)

    @property
    def database_path(self) -> Path | None:
        """The SQLite file of the store; ``None`` when it is a PostgreSQL database."""
        return None if is_postgres(self.store_location) else sqlite_path(self.store_location)

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def validated(self) -> Settings:
        """Normalise and check every value; raises :class:`ConfigError` on the first wrong one."""
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"base_url {self.base_url!r} must be an absolute http(s) URL")
        if url.query or url.fragment:
            raise ConfigError("base_url must have no query or fragment")
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port {self.port} is out of range")
        if self.max_body_bytes <= 0:
            raise ConfigError("max_body_bytes must be positive")
        for name in ("header_timeout", "body_timeout"):
            if not 1 <= getattr(self, name) <= 3600:
                raise ConfigError(f"{name} must be between 1 and 3600 seconds")
        if self.body_min_rate < 0:
            raise ConfigError("body_min_rate must be 0 (no minimum) or more bytes per second")
        if not 1 <= self.max_connections <= 1_000_000:
            raise ConfigError("max_connections must be between 1 and 1000000")
        if not 1 <= self.workers <= 64:
            raise ConfigError("workers must be between 1 and 64")
        if not 1 <= self.access_log_days <= 36500:
            raise ConfigError("access_log_days must be between 1 and 36500")
        if not 1 <= self.access_log_count_seconds <= 300:
            raise ConfigError("access_log_count_seconds must be between 1 and 300")
        if self.master_key_file is not None and not self.master_key_file.is_absolute():
            raise ConfigError(f"master_key_file {str(self.master_key_file)!r} must be an "
                              "absolute path")
        for name in ("max_pod_bytes", "max_pod_resources"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be 0 (unlimited) or a positive number")
        for name, low, high in (("cache_pods", 100, 10_000_000), ("cache_acls", 100, 10_000_000),
                                ("sqlite_mmap_mb", 0, 1_048_576), ("sqlite_cache_mb", 1, 65_536)):
            if not low <= getattr(self, name) <= high:
                raise ConfigError(f"{name} must be between {low} and {high}")
        if self.signup not in SIGNUP_POLICIES:
            raise ConfigError(f"signup must be one of {', '.join(SIGNUP_POLICIES)}, not "
                              f"{self.signup!r}")
        if self.durability not in ("full", "normal"):
            raise ConfigError("durability must be 'full' (survives power loss) or 'normal'")
        if self.store:
            check_store(self.store)
        return replace(self, base_url=base, trusted_proxies=_networks(self.trusted_proxies))


def _networks(values: tuple[str, ...]) -> tuple[str, ...]:
    """Addresses or CIDR networks, normalised (``10.0.0.1`` → ``10.0.0.1/32``)."""
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_network(value.strip(), strict=False)))
        except ValueError:
            raise ConfigError(f"trusted_proxies: {value!r} is not an IP address or network "
                              "(e.g. 10.0.0.1 or 10.0.0.0/8)") from None
    return tuple(out)


ENV_PREFIX = "COMMONPOD_"
_TYPES = {f.name: f.type for f in fields(Settings)}


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _coerce(name: str, value: object) -> object:
    kind = _TYPES[name]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        flag = _BOOLEANS.get(str(value).strip().lower())
        if flag is None:
            raise ConfigError(f"setting {name} must be true or false, not {value!r}")
        return flag
    if kind == "tuple[str, ...]":  # a TOML list, or comma-separated in the environment
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"setting {name} must be a list of strings, not {value!r}")
        return tuple(i.strip() for i in items if i.strip())
    try:
        if kind == "int":
            if not isinstance(value, str | int | float):  # TOML also has lists, tables, dates
                raise ConfigError(f"setting {name} must be an integer, not {value!r}")
            return int(value)
        if kind in ("Path", "Path | None"):
            return Path(str(value)).expanduser()
        return str(value)
    except ValueError:
        raise ConfigError(f"setting {name} must be an integer, not {value!r}") from None


def read_file(data_dir: Path) -> dict[str, object]:
    path = data_dir / SETTINGS_FILE
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    unknown = set(raw) - set(_TYPES) - {"data_dir"}
    if unknown:
        raise ConfigError(f"{path}: unknown settings {', '.join(sorted(unknown))}")
    return raw


def load(overrides: dict[str, object | None], env: Mapping[str, str] | None = None) -> Settings:
    """Merge defaults, the data directory's file, ``COMMONPOD_*`` and ``overrides``."""
    env = os.environ if env is None else env
    from_env = {
        name: env[ENV_PREFIX + name.upper()] for name in _TYPES if ENV_PREFIX + name.upper() in env
    }
    flags = {k: v for k, v in overrides.items() if v is not None}
    data_dir = Path(str(flags.get("data_dir") or from_env.get("data_dir") or default_data_dir()))
    if data_dir.expanduser().exists() and not data_dir.expanduser().is_dir():
        raise ConfigError(f"the data directory {data_dir} is not a directory")
    merged = {**read_file(data_dir.expanduser()), **from_env, **flags, "data_dir": data_dir}
    if "base_url" not in merged:  # the URL this server answers on, unless told otherwise
        host = str(merged.get("host", Settings.host))
        merged["base_url"] = f"http://{host}:{merged.get('port', Settings.port)}/"
    # each value is of its field's type: _coerce checks it at run time, against _TYPES
    typed: dict[str, Any] = {k: _coerce(k, v) for k, v in merged.items()}
    return Settings(**typed).validated()


def write_file(settings: Settings) -> None:
    """Write the persistent settings of a new data directory."""
    lines = [
        "# Commonpod settings. Environment variables COMMONPOD_<NAME> and flags override these.",
        f'base_url = "{settings.base_url}"',
        f"port = {settings.port}",
        f"max_body_bytes = {settings.max_body_bytes}",
        f'durability = "{settings.durability}"',
    ]
    if settings.master_key_file is not None:  # JSON string escapes are valid TOML
        lines.append(f"master_key_file = {json.dumps(str(settings.master_key_file))}")
    if settings.store:
        lines.append(f"store = {json.dumps(settings.store)}")
    path = settings.data_dir / SETTINGS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
