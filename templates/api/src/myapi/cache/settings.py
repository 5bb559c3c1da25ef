"""The cache feature's settings."""

from __future__ import annotations

from pydantic import Field

from myapi.core.settings import RedisUrl


class Settings(RedisUrl):
    """Redis through redis.asyncio (`REDIS_URL` is core's, shared with the tasks feature)."""

    redis_max_connections: int = Field(50, ge=1)
    """Pool size; more concurrent commands wait for a connection instead of failing."""
    redis_timeout: float = Field(0.25, gt=0)
    """Seconds a Redis command may take (connecting and waiting for a pooled connection
    included); past it the cache counts as unavailable and reads go to the source."""
    cache_retry_seconds: float = Field(1.0, gt=0)
    """After a failure, how long Redis is left alone before it is tried again (and how often
    failed invalidations are retried)."""
    cache_ttl_seconds: int = Field(300, ge=1)
