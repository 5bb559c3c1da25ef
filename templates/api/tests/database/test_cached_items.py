"""With the cache feature, item reads go through Redis: a miss fills it, a hit is served from it,
and every write invalidates the item's entry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from myapi.cache.client import INVALIDATED, RedisCache
from myapi.core.config import Settings
from myapi.core.registry import Resources
from myapi.core.resources import open_resources
from myapi.database.items.schemas import ItemCreate, ItemUpdate
from myapi.database.items.service import ItemService


@pytest.fixture
async def resources(settings: Settings) -> AsyncIterator[Resources]:
    async with open_resources(settings) as opened:
        yield opened


async def test_item_reads_are_cached_and_writes_invalidate(
    resources: Resources, redis_url: str, settings: Settings
) -> None:
    items = resources.get(ItemService)
    cache = resources.get(RedisCache)
    item = await items.create(ItemCreate(name="cached"))
    key = f"{settings.app_name}:item:{item.id}"
    redis = Redis.from_url(redis_url)
    try:
        assert await items.get(item.id) == item
        assert (cache.misses, cache.hits) == (1, 0)
        assert await redis.exists(key) == 1
        assert 0 < await redis.ttl(key) <= settings.cache_ttl_seconds

        # A hit is answered from Redis: change the entry there and the service returns it.
        stored = await redis.get(key)
        assert isinstance(stored, bytes)
        await redis.set(key, stored.replace(b'"cached"', b'"from redis"'))
        hit = await items.get(item.id)
        assert hit is not None
        assert hit.name == "from redis"
        assert (cache.misses, cache.hits) == (1, 1)

        await items.update(item.id, ItemUpdate(name="updated"))
        assert await redis.get(key) == INVALIDATED  # the write invalidated the entry
        fetched = await items.get(item.id)
        assert fetched is not None
        assert fetched.name == "updated"

        assert await items.delete(item.id)
        assert await redis.get(key) == INVALIDATED
        assert await items.get(item.id) is None
    finally:
        await redis.aclose()


async def test_a_read_racing_a_write_cannot_cache_the_old_value(resources: Resources) -> None:
    items = resources.get(ItemService)
    item = await items.create(ItemCreate(name="before"))
    # A reader missed the cache and read the row just before the write committed ...
    read_before_the_write = item.model_dump_json()
    await items.update(item.id, ItemUpdate(name="after"))
    # ... and fills the cache just after the write's invalidation: the fill is refused.
    await resources.cache.set(f"item:{item.id}", read_before_the_write)
    fetched = await items.get(item.id)
    assert fetched is not None
    assert fetched.name == "after"


async def test_an_entry_of_another_schema_is_a_miss(resources: Resources) -> None:
    items = resources.get(ItemService)
    item = await items.create(ItemCreate(name="current"))
    await resources.cache.set(f"item:{item.id}", '{"id": 1, "title": "from an old release"}')
    assert await items.get(item.id) == item
