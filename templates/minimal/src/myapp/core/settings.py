"""Where settings come from, and the settings every project has.

Values are read from the environment, then `.env.<ENVIRONMENT>`, then `.env`, then secret files
in /run/secrets (the first that has a value wins). `ENVIRONMENT` (`local`, `test`, `staging`,
`production`; from the environment, else from `.env`, else `local`) picks that second file.
Every field maps to the upper-case environment variable of the same name (`database_url` ->
`DATABASE_URL`). Secrets never have defaults here: they come from the environment or a secret
file, and are `SecretStr` so they are never shown. Each feature keeps its own section in
`<feature>/settings.py`; `core/config.py` joins them.

A bad value is one line naming the setting (never its value) and exit status 2 (`load_settings`).
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

if TYPE_CHECKING:
    from collections.abc import Callable

SECRETS_DIR = Path("/run/secrets")
DOTENV = ".env"
S = TypeVar("S", bound=BaseSettings)


class Environment(StrEnum):
    local = "local"
    test = "test"
    staging = "staging"
    production = "production"


def env_files() -> tuple[str, ...]:
    """`.env`, then `.env.<ENVIRONMENT>` (whose values win over `.env`'s)."""
    name = os.environ.get("ENVIRONMENT") or dotenv_values(DOTENV).get("ENVIRONMENT") or "local"
    if name not in Environment.__members__.values():
        return (DOTENV,)  # the `environment` setting reports the bad value
    return (DOTENV, f"{DOTENV}.{name}")


class BaseConfig(BaseSettings):
    """Where values come from; every section shares these rules."""

    model_config = SettingsConfigDict(
        env_file=DOTENV,
        env_file_encoding="utf-8",
        # Only where it exists: pydantic-settings warns about a missing secrets folder.
        secrets_dir=SECRETS_DIR if SECRETS_DIR.is_dir() else None,
        extra="ignore",
    )

    def __init__(self, **values: Any) -> None:
        values.setdefault("_env_file", env_files())  # tests pass `_env_file=None`
        super().__init__(**values)


LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]


class AppSettings(BaseConfig):
    app_name: str = "myapp"
    environment: Environment = Environment.local
    log_level: LogLevel = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def problems(error: ValidationError | SettingsError) -> str:
    """What is wrong, in one line, naming each setting but never its value."""
    if isinstance(error, SettingsError):
        return str(error).split(" from source ")[0]  # names the field, not the value
    found = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]).upper()
        found.append(f"setting {name}: {item['msg'].removeprefix('Value error, ')}")
    return "; ".join(found)


def read_settings(kind: Callable[[], S]) -> S | str:
    """`kind()`, or the one line that says what is wrong with the settings."""
    try:
        return kind()
    except (ValidationError, SettingsError) as error:
        return f"error: {problems(error)}"


def load_settings(kind: Callable[[], S]) -> S:
    """`kind()`, or exit with status 2 after one line on stderr saying what is wrong (no
    traceback: the values may hold secrets)."""
    settings = read_settings(kind)
    if isinstance(settings, str):
        print(settings, file=sys.stderr)
        raise SystemExit(2)
    return settings


class RedisUrl(BaseConfig):
    """`REDIS_URL`, for every feature that uses Redis (cache, tasks): one field, one rule."""

    redis_url: SecretStr
    """`redis://[:password@]host:port/db`, as `riso env` exports it (secret: it may carry a
    password, so it is never shown)."""

    @field_validator("redis_url")
    @classmethod
    def _redis_only(cls, value: SecretStr) -> SecretStr:
        try:
            url = urlsplit(value.get_secret_value())
            url.port  # noqa: B018  # raises ValueError for a port that is not a number
        except ValueError:
            url = None
        # Say what is wrong without repeating the value: it may hold a password.
        if url is None or url.scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value
