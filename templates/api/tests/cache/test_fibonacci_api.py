"""/fibonacci/{n}: GET reads through the cache, DELETE drops the cached value."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from myapi.cache.client import INVALIDATED
from myapi.core.config import Settings


async def test_results_are_cached_and_can_be_dropped(
    client: httpx.AsyncClient, redis_url: str, settings: Settings
) -> None:
    redis = Redis.from_url(redis_url)
    try:
        key = f"{settings.app_name}:fibonacci:90"
        assert await redis.exists(key) == 0

        first = await client.get("/fibonacci/90")  # miss: computed, then stored
        assert first.json() == {"n": 90, "value": "2880067194370816120"}
        assert await redis.get(key) == b"2880067194370816120"

        await redis.set(key, b"42")  # a hit is answered from Redis
        assert (await client.get("/fibonacci/90")).json()["value"] == "42"

        assert (await client.delete("/fibonacci/90")).status_code == 204
        assert await redis.get(key) == INVALIDATED
        assert (await client.get("/fibonacci/90")).json()["value"] == "2880067194370816120"
    finally:
        await redis.aclose()


async def test_out_of_range_is_rejected(client: httpx.AsyncClient) -> None:
    assert (await client.get("/fibonacci/-1")).status_code == 422
    assert (await client.get("/fibonacci/10001")).status_code == 422
