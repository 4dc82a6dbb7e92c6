"""Settings, read once and typed: defaults < ``settings.toml`` < ``COMMONPOD_*`` < flags.

The data directory holds ``settings.toml``, the master key file ``master.key`` (mode 0600) and
the SQLite database. Anything wrong makes the server refuse to start with a clear message.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from pod.errors import ConfigError

SETTINGS_FILE = "settings.toml"
MASTER_KEY_FILE = "master.key"
DATABASE_FILE = "commonpod.db"


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

    @property
    def master_key_path(self) -> Path:
        return self.data_dir / MASTER_KEY_FILE

    @property
    def database_path(self) -> Path:
        return self.data_dir / DATABASE_FILE

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
        if not 1 <= self.access_log_days <= 36500:
            raise ConfigError("access_log_days must be between 1 and 36500")
        if self.durability not in ("full", "normal"):
            raise ConfigError("durability must be 'full' (survives power loss) or 'normal'")
        return replace(self, base_url=base)


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
    try:
        if kind == "int":
            return int(value)  # type: ignore[arg-type]
        if kind == "Path":
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


def load(overrides: dict[str, object | None], env: dict[str, str] | None = None) -> Settings:
    """Merge defaults, the data directory's file, ``COMMONPOD_*`` and ``overrides``."""
    env = os.environ if env is None else env
    from_env = {
        name: env[ENV_PREFIX + name.upper()] for name in _TYPES if ENV_PREFIX + name.upper() in env
    }
    flags = {k: v for k, v in overrides.items() if v is not None}
    data_dir = Path(str(flags.get("data_dir") or from_env.get("data_dir") or default_data_dir()))
    merged = {**read_file(data_dir.expanduser()), **from_env, **flags, "data_dir": data_dir}
    if "base_url" not in merged:  # the URL this server answers on, unless told otherwise
        host = str(merged.get("host", Settings.host))
        merged["base_url"] = f"http://{host}:{merged.get('port', Settings.port)}/"
    return Settings(**{k: _coerce(k, v) for k, v in merged.items()}).validated()


def write_file(settings: Settings) -> None:
    """Write the persistent settings of a new data directory."""
    lines = [
        "# Commonpod settings. Environment variables COMMONPOD_<NAME> and flags override these.",
        f'base_url = "{settings.base_url}"',
        f"port = {settings.port}",
        f"max_body_bytes = {settings.max_body_bytes}",
        f'durability = "{settings.durability}"',
    ]
    path = settings.data_dir / SETTINGS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
