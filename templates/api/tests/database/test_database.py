"""The database layer: each read commits on its own, a transaction is all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from myapi.core.config import Settings
from myapi.database.engine import Database
from myapi.database.models import Item

TRANSACTION_ID = text("SELECT pg_current_xact_id()::text")
COUNT = text("SELECT count(*) FROM items")


async def test_each_read_runs_on_its_own(settings: Settings) -> None:
    database = Database(settings)
    try:
        async with database.reader() as connection:
            first = (await connection.execute(TRANSACTION_ID)).scalar()
            second = (await connection.execute(TRANSACTION_ID)).scalar()
    finally:
        await database.close()
    assert first != second


async def test_a_transaction_is_all_or_nothing(settings: Settings) -> None:
    database = Database(settings)
    seen: list[object] = []

    async def insert_then_fail() -> None:
        async with database.transaction() as session:
            session.add(Item(name="half done"))
            await session.flush()
            seen.extend([await session.scalar(TRANSACTION_ID), await session.scalar(COUNT)])
            raise RuntimeError("fails after the insert")

    try:
        with pytest.raises(RuntimeError):
            await insert_then_fail()
        async with database.reader() as connection:
            left = (await connection.execute(COUNT)).scalar()
    finally:
        await database.close()
    assert seen[1] == 1  # the insert was visible inside the transaction
    assert left == 0  # and rolled back with it
