"""The cache when Redis fails: stopped (its port closed), paused (`CLIENT PAUSE`), or back again.

Every call returns normally and quickly; invalidations that could not be applied are applied as
soon as Redis answers, and until then this process never reads those entries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from myapi.cache.client import INVALIDATED, CacheUnavailable, RedisCache, create_redis
from myapi.core.config import Settings
from tests.faults import Proxy


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[Proxy]:
    async with Proxy(redis_url) as running:
        yield running


def cache_for(settings: Settings, url: str, retry_seconds: float = 0.3) -> RedisCache:
    redis = create_redis(settings.model_copy(update={"redis_url": SecretStr(url)}))
    return RedisCache(redis, "test:", 60, timeout=0.2, retry_seconds=retry_seconds)


async def test_a_stopped_redis_is_a_miss_that_costs_no_wait(
    settings: Settings, closed_port: int
) -> None:
    cache = cache_for(settings, f"redis://127.0.0.1:{closed_port}/0", retry_seconds=60)
    try:
        started = time.perf_counter()
        assert await cache.get("a") is None
        await cache.set("a", "1")
        assert await cache.get("a") is None
        await cache.delete("a")
        assert time.perf_counter() - started < 1
        assert cache.errors == 1  # then left alone for retry_seconds: no more failed calls
        assert (cache.misses, cache.hits) == (2, 0)
        assert (cache.invalidations_failed, cache.pending) == (1, 1)
        with pytest.raises(CacheUnavailable):
            await cache.ping()
    finally:
        await cache.redis.aclose()


async def test_invalidations_missed_while_redis_was_down_are_applied_when_it_returns(
    settings: Settings, proxy: Proxy, redis: Redis
) -> None:
    cache = cache_for(settings, proxy.url)
    try:
        await cache.set("item", "old")
        assert await cache.get("item") == b"old"
        await proxy.stop()  # Redis stops; it still holds "old" when it comes back

        await cache.delete("item")
        assert cache.pending == 1
        assert await cache.get("item") is None  # never the old value from here on

        await proxy.start()
        await cache.ping()  # Redis answers again; the retry has not run yet
        assert await cache.get("item") is None
        await cache.retry_pending()
        assert cache.pending == 0
        assert await redis.get("test:item") == INVALIDATED
        await cache.set("item", "old")  # a fill racing the write cannot bring it back
        assert await cache.get("item") is None
    finally:
        await cache.redis.aclose()


async def test_retries_run_in_the_background(
    settings: Settings, proxy: Proxy, redis: Redis
) -> None:
    cache = cache_for(settings, proxy.url)
    retrying = asyncio.create_task(cache.keep_retrying())
    try:
        await redis.set("test:item", "old")
        await proxy.stop()
        await cache.delete("item")
        await proxy.start()
        for _ in range(50):
            if cache.pending == 0:
                break
            await asyncio.sleep(0.1)
        assert cache.pending == 0
        assert await redis.get("test:item") == INVALIDATED
    finally:
        retrying.cancel()
        await cache.redis.aclose()


async def test_a_paused_redis_is_a_miss_within_the_timeout(
    settings: Settings, redis_url: str, redis: Redis, pause_redis: Callable[[float], None]
) -> None:
    cache = cache_for(settings, redis_url)
    try:
        await cache.set("item", "old")
        assert await cache.get("item") == b"old"
        pause_redis(1.5)
        started = time.perf_counter()
        assert await cache.get("item") is None
        await cache.delete("item")
        assert time.perf_counter() - started < 1
        assert cache.pending == 1

        await asyncio.sleep(1.6)  # the pause is over
        for _ in range(50):  # a busy machine may still time out one retry: retry as the app does
            await cache.retry_pending()
            if cache.pending == 0:
                break
            await asyncio.sleep(0.1)
        assert cache.pending == 0
        assert await redis.get("test:item") == INVALIDATED
    finally:
        await cache.redis.aclose()
