"""The database feature's settings."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from myapi.core.settings import BaseConfig


class Settings(BaseConfig):
    """PostgreSQL through SQLAlchemy's asyncio engine and asyncpg."""

    database_url: SecretStr
    """Plain `postgresql://user:<password>@host:port/name`, as `riso env` exports it (secret: it
    may carry a password, so it is never shown)."""
    # Sized for one worker process. Every request holds at most one connection, and one
    # process cannot keep more than a few busy; requests beyond the pool wait in arrival
    # order. Overflow connections are opened and closed per burst: keep it 0 unless bursts
    # are rare.
    database_pool_size: int = Field(10, ge=1)
    database_max_overflow: int = Field(0, ge=0)
    database_pool_timeout: float = Field(10.0, gt=0)
    """Seconds a request waits for a free connection before it gets a 503."""
    database_connect_timeout: float = Field(5.0, gt=0)
    database_pool_pre_ping: bool = True
    """Test each pooled connection before use (one round trip), so the first request after a
    database restart or failover gets a new connection instead of an error."""
    database_statement_timeout: float = Field(5.0, ge=0)
    """Seconds a statement may run (waiting for locks included) before Postgres cancels it and
    the request gets a 503; 0 means no limit."""

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: SecretStr) -> SecretStr:
        url = _parse(value.get_secret_value())
        if url.get_backend_name() not in ("postgresql", "postgres") or not url.database:
            raise ValueError("must be a postgresql://USER@HOST:PORT/NAME URL")
        return value

    @property
    def async_database_url(self) -> str:
        """The same database for the asyncpg driver (`postgresql+asyncpg://`)."""
        url = _parse(self.database_url.get_secret_value()).set(drivername="postgresql+asyncpg")
        if "sslmode" in url.query:  # libpq's name; asyncpg calls it `ssl`
            query = dict(url.query)
            query["ssl"] = query.pop("sslmode")
            url = url.set(query=query)
        return url.render_as_string(hide_password=False)


def _parse(text: str) -> URL:
    try:
        return make_url(text)
    except (ArgumentError, ValueError):
        # Say what is wrong without repeating the value: it may hold a password.
        raise ValueError("must be a postgresql://USER@HOST:PORT/NAME URL") from None
