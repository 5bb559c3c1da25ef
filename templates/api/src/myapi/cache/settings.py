"""The cache feature's settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from myapi.core.settings import BaseConfig


class Settings(BaseConfig):
    """Redis through redis.asyncio."""

    redis_url: SecretStr
    """`redis://[:password@]host:port/db`, as `riso env` exports it (secret: it may carry a
    password, so it is never shown)."""
    redis_max_connections: int = Field(50, ge=1)
    """Pool size; more concurrent commands wait for a connection instead of failing."""
    redis_timeout: float = Field(0.25, gt=0)
    """Seconds a Redis command may take (connecting and waiting for a pooled connection
    included); past it the cache counts as unavailable and reads go to the source."""
    cache_retry_seconds: float = Field(1.0, gt=0)
    """After a failure, how long Redis is left alone before it is tried again (and how often
    failed invalidations are retried)."""
    cache_ttl_seconds: int = Field(300, ge=1)

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
