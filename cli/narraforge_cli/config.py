"""Where the CLI keeps its session: one JSON file in the user's config directory, readable by the user alone."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_API = "http://127.0.0.1:8000"  # the local stack of `make run`
API_ENV = "NARRAFORGE_API"


@dataclass
class Config:
    api: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    email: str | None = None


def config_path() -> Path:
    """`$XDG_CONFIG_HOME/narraforge/config.json`, `~/.config/...` without it (the XDG base directory rule)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "narraforge" / "config.json"


def load() -> Config:
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}. Fix or delete it, then run `narraforge login`.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a JSON object. Delete it, then run `narraforge login`.")
    return Config(**{key: data.get(key) for key in asdict(Config())})


def save(config: Config) -> Path:
    """Writes a new file created with mode 0600 and renames it over the old one: the tokens are never readable
    by others, not even for a moment, whatever the umask or the old file's mode."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({k: v for k, v in asdict(config).items() if v is not None}, handle, indent=2)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def resolve_api(flag: str | None, config: Config) -> str:
    """`--api` first, then $NARRAFORGE_API, then the API the user logged in to, then the local stack."""
    return (flag or os.environ.get(API_ENV) or config.api or DEFAULT_API).rstrip("/")


class ConfigError(Exception):
    """The config file exists but cannot be used."""
