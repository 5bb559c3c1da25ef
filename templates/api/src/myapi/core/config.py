"""Settings, read from the environment, then a `.env` file, then secret files in /run/secrets.

Every field maps to the upper-case environment variable of the same name (`database_url` ->
`DATABASE_URL`). Secrets never have defaults here: they come from the environment or a secret file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

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
    app_name: str = "myapi"
    environment: str = "development"
    log_level: str = "INFO"


class ApiSettings(BaseConfig):
    host: str = "127.0.0.1"
    port: int = 8000
    readiness_timeout: float = 2.0
    """Seconds each dependency probe of /readyz may take."""
    readiness_cache_seconds: float = 1.0
    """How long a /readyz result is reused, so probes never load the dependencies."""


class DatabaseSettings(BaseConfig):
    """PostgreSQL through SQLAlchemy's asyncio engine and asyncpg."""

    database_url: str = Field(repr=False)
    """Plain `postgresql://user:password@host:port/name`, as `riso env` exports it."""
    # Sized for one worker process. Every request holds at most one connection, and one
    # process cannot keep more than a few busy; requests beyond the pool wait in arrival
    # order. Overflow connections are opened and closed per burst: keep it 0 unless bursts
    # are rare.
    database_pool_size: int = Field(10, ge=1)
    database_max_overflow: int = Field(0, ge=0)
    database_pool_timeout: float = Field(10.0, gt=0)
    """Seconds a request waits for a free connection before it gets a 503."""
    database_connect_timeout: float = Field(5.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if make_url(value).get_backend_name() not in ("postgresql", "postgres"):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return value

    @property
    def async_database_url(self) -> str:
        """The same database for the asyncpg driver (`postgresql+asyncpg://`)."""
        url = make_url(self.database_url).set(drivername="postgresql+asyncpg")
        if "sslmode" in url.query:  # libpq's name; asyncpg calls it `ssl`
            query = dict(url.query)
            query["ssl"] = query.pop("sslmode")
            url = url.set(query=query)
        return url.render_as_string(hide_password=False)


class CacheSettings(BaseConfig):
    """Redis through redis.asyncio."""

    redis_url: str = Field(repr=False)
    """`redis://[:password@]host:port/db`, as `riso env` exports it."""
    redis_max_connections: int = Field(50, ge=1)
    """Pool size; more concurrent commands wait for a connection instead of failing."""
    redis_timeout: float = Field(2.0, gt=0)
    cache_ttl_seconds: int = Field(300, ge=1)

    @field_validator("redis_url")
    @classmethod
    def _redis_only(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
        return value


class MonitoringSettings(BaseConfig):
    access_log: bool = False
    """One JSON log line per HTTP request. Off by default: /metrics already counts and times
    every request, and the line costs about a third of a trivial request's time."""
    otel_exporter_otlp_endpoint: str | None = None
    """OTLP/HTTP collector (e.g. `http://127.0.0.1:4318`); tracing is off when unset."""
    otel_service_name: str | None = None

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None


class Settings(AppSettings, ApiSettings, DatabaseSettings, CacheSettings, MonitoringSettings):
    """Everything the service reads."""
