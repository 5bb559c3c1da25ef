"""Settings, read from the environment, then a `.env` file, then secret files in /run/secrets.

Every field maps to the upper-case environment variable of the same name (`database_url` ->
`DATABASE_URL`). Secrets never have defaults here: they come from the environment or a secret file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

SECRETS_DIR = Path("/run/secrets")


class BaseConfig(BaseSettings):
    """Where values come from; each feature's settings below share these rules."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        # Only where it exists: pydantic-settings warns about a missing secrets folder.
        secrets_dir=SECRETS_DIR if SECRETS_DIR.is_dir() else None,
        extra="ignore",
    )


class AppSettings(BaseConfig):
    app_name: str = "myapp"
    environment: str = "development"
    log_level: str = "INFO"


class ApiSettings(BaseConfig):
    host: str = "127.0.0.1"
    port: int = 8000
    readiness_timeout: float = 2.0
    """Seconds each dependency probe of /readyz may take."""
    readiness_cache_seconds: float = 1.0
    """How long a /readyz result is reused, so probes never load the dependencies."""


class Settings(AppSettings, ApiSettings):
    """Everything the service reads."""
