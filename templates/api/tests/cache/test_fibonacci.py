"""The cached computation: a miss fills Redis, a hit is served from it, forget drops the entry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from myapi.cache.client import INVALIDATED, RedisCache
from myapi.cache.fibonacci import cached_fibonacci, forget
from myapi.core.config import Settings
from myapi.core.registry import Resources
from myapi.core.resources import open_resources


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    async with open_resources(settings) as opened:
        yield opened


async def test_results_are_cached_and_can_be_dropped(
    resources: Resources, redis: Redis, settings: Settings
) -> None:
    key = f"{settings.app_name}:fibonacci:90"
    cache = resources.get(RedisCache)
    assert resources.cache is cache  # the cache every feature reads through

    assert await cached_fibonacci(cache, 90) == 2880067194370816120
    assert (cache.misses, cache.hits) == (1, 0)
    assert await redis.get(key) == b"2880067194370816120"
    assert 0 < await redis.ttl(key) <= settings.cache_ttl_seconds

    assert await cached_fibonacci(cache, 90) == 2880067194370816120
    assert (cache.misses, cache.hits) == (1, 1)

    await forget(cache, 90)
    assert await redis.get(key) == INVALIDATED  # reads as a miss
    assert await cached_fibonacci(cache, 90) == 2880067194370816120
    assert (cache.misses, cache.hits) == (2, 1)
