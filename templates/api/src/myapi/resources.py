"""Connections the process holds for its lifetime: opened once at start, closed at exit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial

from redis.asyncio import Redis

from myapi import cache as redis_cache
from myapi.core.config import Settings
from myapi.db.engine import Database
from myapi.health import Probe
from myapi.items.service import ItemService


@dataclass(frozen=True)
class Resources:
    database: Database
    items: ItemService
    redis: Redis
    cache: redis_cache.Cache

    def probes(self) -> dict[str, Probe]:
        """Readiness checks, by the name /readyz reports them under."""
        return {
            "database": self.database.ping,
            "cache": partial(redis_cache.ping, self.redis),
        }


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    async with AsyncExitStack() as stack:
        database = Database(settings)
        stack.push_async_callback(database.close)
        redis = redis_cache.create_redis(settings)
        stack.push_async_callback(redis.aclose)
        cache = redis_cache.Cache(redis, f"{settings.app_name}:", settings.cache_ttl_seconds)
        yield Resources(
            database=database,
            items=ItemService(database, cache),
            redis=redis,
            cache=cache,
        )
