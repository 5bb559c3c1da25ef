"""The database feature's settings."""

from __future__ import annotations

from pydantic import Field, field_validator
from sqlalchemy.engine import make_url

from myapi.core.settings import BaseConfig


class Settings(BaseConfig):
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
