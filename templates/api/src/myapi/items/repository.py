"""SQL for items: one statement per call, on the session it is given."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from myapi.db.models import Item
from myapi.items.schemas import ItemCreate, ItemRead, ItemUpdate


async def list_items(session: AsyncSession, limit: int, offset: int) -> list[ItemRead]:
    rows = await session.scalars(select(Item).order_by(Item.id).limit(limit).offset(offset))
    return [ItemRead.model_validate(row) for row in rows]


async def get_item(session: AsyncSession, item_id: int) -> ItemRead | None:
    item = await session.get(Item, item_id)
    return None if item is None else ItemRead.model_validate(item)


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
