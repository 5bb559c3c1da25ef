"""SQL for items: one statement per call.

Reads run on a plain connection and select the table's columns, not ORM objects: rows
validate straight into ItemRead, without a session or identity-map bookkeeping, and the
statements are built once. Writes use the ORM session and its transaction.
"""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from myapi.database.items.schemas import ItemCreate, ItemRead, ItemUpdate
from myapi.database.models import Item

ITEMS = Item.__table__
PAGE = select(ITEMS).order_by(ITEMS.c.id).limit(bindparam("limit")).offset(bindparam("offset"))
ONE = select(ITEMS).where(ITEMS.c.id == bindparam("item_id"))
ITEM_LIST = TypeAdapter(list[ItemRead])


async def list_items(connection: AsyncConnection, limit: int, offset: int) -> list[ItemRead]:
    result = await connection.execute(PAGE, {"limit": limit, "offset": offset})
    return ITEM_LIST.validate_python(result.mappings().all())


async def get_item(connection: AsyncConnection | AsyncSession, item_id: int) -> ItemRead | None:
    row = (await connection.execute(ONE, {"item_id": item_id})).mappings().first()
    return None if row is None else ItemRead.model_validate(row)


async def create_item(session: AsyncSession, data: ItemCreate) -> ItemRead:
    item = Item(**data.model_dump())
    session.add(item)
    await session.flush()
    return ItemRead.model_validate(item)


async def update_item(session: AsyncSession, item_id: int, data: ItemUpdate) -> ItemRead | None:
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        return await get_item(session, item_id)
    statement = update(Item).where(Item.id == item_id).values(**changes).returning(Item)
    item = await session.scalar(statement)
    return None if item is None else ItemRead.model_validate(item)


async def delete_item(session: AsyncSession, item_id: int) -> bool:
    deleted = await session.scalar(delete(Item).where(Item.id == item_id).returning(Item.id))
    return deleted is not None
