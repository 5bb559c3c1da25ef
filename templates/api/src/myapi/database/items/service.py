"""Item use cases for the API and the CLI.

Each call holds one database connection and gives it back before the next: nothing ever waits for
a second connection while holding one, so the pool cannot deadlock under load.
Reads of one item go through the cache (when the cache feature is on); every write invalidates
that item's entry once it has committed. The cache never fails a call (see core/cache.py): a
write that committed always returns its result.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from myapi.core.cache import NO_CACHE, Cache
from myapi.database.engine import Database
from myapi.database.items import repository
from myapi.database.items.schemas import ItemCreate, ItemRead, ItemUpdate

logger = logging.getLogger(__name__)


class ItemService:
    def __init__(self, database: Database, cache: Cache = NO_CACHE) -> None:
        self._database = database
        self._cache = cache

    async def list_page(self, limit: int, offset: int = 0) -> list[ItemRead]:
        async with self._database.reader() as connection:
            return await repository.list_items(connection, limit, offset)

    async def get(self, item_id: int) -> ItemRead | None:
        cached = await self._cache.get(_key(item_id))
        if cached is not None:
            try:
                return ItemRead.model_validate_json(cached)
            except ValidationError:  # written by another version of the schema: a miss
                pass
        async with self._database.reader() as connection:
            item = await repository.get_item(connection, item_id)
        if item is not None:
            await self._cache.set(_key(item_id), item.model_dump_json())
        return item

    async def create(self, data: ItemCreate) -> ItemRead:
        async with self._database.transaction() as session:
            item = await repository.create_item(session, data)
        logger.info("item created", extra={"fields": {"item_id": item.id}})
        return item

    async def update(self, item_id: int, data: ItemUpdate) -> ItemRead | None:
        async with self._database.transaction() as session:
            item = await repository.update_item(session, item_id, data)
        await self._cache.delete(_key(item_id))
        if item is not None:
            logger.info("item updated", extra={"fields": {"item_id": item_id}})
        return item

    async def delete(self, item_id: int) -> bool:
        async with self._database.transaction() as session:
            deleted = await repository.delete_item(session, item_id)
        await self._cache.delete(_key(item_id))
        if deleted:
            logger.info("item deleted", extra={"fields": {"item_id": item_id}})
        return deleted


def _key(item_id: int) -> str:
    return f"item:{item_id}"
