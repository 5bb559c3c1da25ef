"""Connections the process holds for its lifetime: opened once at start, closed at exit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from functools import partial

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from myapi import cache as redis_cache
from myapi.core.config import Settings
from myapi.db import engine as db
from myapi.health import Probe
from myapi.items.service import ItemService


@dataclass(frozen=True)
class Resources:
    engine: AsyncEngine
    items: ItemService
    redis: Redis
    cache: redis_cache.Cache

    def probes(self) -> dict[str, Probe]:
        """Readiness checks, by the name /readyz reports them under."""
        return {
            "database": partial(db.ping, self.engine),
            "cache": partial(redis_cache.ping, self.redis),
        }


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    async with AsyncExitStack() as stack:
        engine = db.create_engine(settings)
        stack.push_async_callback(engine.dispose)
        redis = redis_cache.create_redis(settings)
        stack.push_async_callback(redis.aclose)
        cache = redis_cache.Cache(redis, f"{settings.app_name}:", settings.cache_ttl_seconds)
        yield Resources(
            engine=engine,
            items=ItemService(db.create_sessionmaker(engine), cache),
            redis=redis,
            cache=cache,
        )
