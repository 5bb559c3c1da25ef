"""Where settings come from, and the settings every project has.

Values are read from the environment, then `.env.<ENVIRONMENT>`, then `.env`, then secret files
in /run/secrets (the first that has a value wins); a feature may add a source (the secrets
feature's encrypted `secrets/<ENVIRONMENT>.env.age` comes right after the environment).
`ENVIRONMENT` (`local`, `test`, `staging`, `production`; from the environment, else from `.env`,
else `local`) picks that second file.
Every field maps to the upper-case environment variable of the same name (`database_url` ->
`DATABASE_URL`). Secrets never have defaults here: they come from the environment or a secret
file, and are `SecretStr` so they are never shown. Each feature keeps its own section in
`<feature>/settings.py`; `core/config.py` joins them.

A bad value is one line naming the setting (never its value) and exit status 2 (`load_settings`).
In `staging` and `production` every secret (`SecretStr`) must hold a real value: an empty one or
a placeholder (`changethis`, `secret`, `dev-...`, also as a URL's password) is refused, naming it.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import SecretStr, ValidationError, field_validator, model_validator
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


def environment_name() -> str | None:
    """`ENVIRONMENT` from the environment, else `.env`, else `local`; None when it is not one of
    `Environment` (the `environment` setting reports the bad value)."""
    name = os.environ.get("ENVIRONMENT") or dotenv_values(DOTENV).get("ENVIRONMENT") or "local"
    return name if name in Environment.__members__.values() else None


def env_files() -> tuple[str, ...]:
    """`.env`, then `.env.<ENVIRONMENT>` (whose values win over `.env`'s)."""
    name = environment_name()
    return (DOTENV,) if name is None else (DOTENV, f"{DOTENV}.{name}")


PLACEHOLDERS = frozenset(
    {"", "changethis", "change-me", "changeme", "change_me", "secret", "password", "placeholder"}
    | {"example", "todo", "fixme", "xxx", "none", "null"}
)
PLACEHOLDER_PREFIXES = ("dev-", "dev_", "insecure", "changethis", "change-me", "changeme")
GUARDED = (Environment.staging, Environment.production)


def is_placeholder(text: str) -> bool:
    """An empty or well-known stand-in value, alone or as the password of a URL."""
    value = text.strip().lower()
    if value in PLACEHOLDERS or value.startswith(PLACEHOLDER_PREFIXES):
        return True
    if "://" not in value:
        return False
    try:
        password = urlsplit(text.strip()).password
    except ValueError:
        return False
    return password is not None and is_placeholder(password)


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
    app_name: str = "myapi"
    environment: Environment = Environment.local
    log_level: LogLevel = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _real_secrets(self) -> Self:
        """In staging and production, no secret of any section may be empty or a placeholder."""
        if self.environment in GUARDED:
            found = [
                name.upper()
                for name in type(self).model_fields
                if isinstance(value := getattr(self, name), SecretStr)
                and is_placeholder(value.get_secret_value())
            ]
            if found:
                raise ValueError(
                    f"{', '.join(found)}: empty or a placeholder, refused in {self.environment}"
                    " (set a real secret)"
                )
        return self


def problems(error: ValidationError | SettingsError) -> str:
    """What is wrong, in one line, naming each setting but never its value."""
    if isinstance(error, SettingsError):
        return str(error).split(" from source ")[0]  # names the field, not the value
    found = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        found.append(f"setting {name}: {message}" if name else f"settings {message}")
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
