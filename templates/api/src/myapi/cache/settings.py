"""The cache feature's settings."""

from __future__ import annotations

from pydantic import Field, field_validator

from myapi.core.settings import BaseConfig


class Settings(BaseConfig):
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
