"""Cached item reads: a miss fills Redis, a hit is served from it, a write drops the entry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from myapi.core.config import Settings


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_item_reads_are_cached_and_writes_invalidate(
    client: httpx.AsyncClient, redis: Redis, settings: Settings
) -> None:
    item = (await client.post("/items", json={"name": "cached"})).json()
    key = f"{settings.app_name}:item:{item['id']}"
    assert await redis.exists(key) == 0

    assert (await client.get(f"/items/{item['id']}")).json() == item  # miss: read from Postgres
    assert await redis.exists(key) == 1
    assert 0 < await redis.ttl(key) <= settings.cache_ttl_seconds

    # A hit is answered from Redis: change the entry there and the API returns the change.
    stored = await redis.get(key)
    assert isinstance(stored, bytes)
    await redis.set(key, stored.replace(b'"cached"', b'"from redis"'))
    assert (await client.get(f"/items/{item['id']}")).json()["name"] == "from redis"

    updated = await client.patch(f"/items/{item['id']}", json={"name": "updated"})
    assert updated.json()["name"] == "updated"
    assert await redis.exists(key) == 0  # the write dropped the entry
    assert (await client.get(f"/items/{item['id']}")).json()["name"] == "updated"

    assert (await client.delete(f"/items/{item['id']}")).status_code == 204
    assert await redis.exists(key) == 0
    assert (await client.get(f"/items/{item['id']}")).status_code == 404
