"""Where settings come from, and the settings every project has.

Values are read from the environment, then a `.env` file, then secret files in /run/secrets.
Every field maps to the upper-case environment variable of the same name (`database_url` ->
`DATABASE_URL`). Secrets never have defaults here: they come from the environment or a secret
file. Each feature keeps its own section in `<feature>/settings.py`; `core/config.py` joins them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

SECRETS_DIR = Path("/run/secrets")


class BaseConfig(BaseSettings):
    """Where values come from; every section shares these rules."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        # Only where it exists: pydantic-settings warns about a missing secrets folder.
        secrets_dir=SECRETS_DIR if SECRETS_DIR.is_dir() else None,
        extra="ignore",
    )


class AppSettings(BaseConfig):
    app_name: str = "myapi"
    environment: str = "development"
    log_level: str = "INFO"
