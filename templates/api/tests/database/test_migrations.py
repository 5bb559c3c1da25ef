"""Alembic: upgrade -> downgrade -> upgrade, and the models agree with the migrations."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from myapi.database.models import Base
from myapi.database.settings import Settings as DatabaseSettings

Alembic = Callable[[str, str, str], None]


def describe(connection: Connection) -> dict[str, Any]:
    version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    context = MigrationContext.configure(connection)
    return {
        "tables": set(inspect(connection).get_table_names()),
        "version": version,
        "differences": compare_metadata(context, Base.metadata),
    }


async def inspect_database(url: str) -> dict[str, Any]:
    engine = create_async_engine(DatabaseSettings(database_url=url).async_database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(describe)
    finally:
        await engine.dispose()


def test_upgrade_downgrade_upgrade(database_url: str, run_alembic: Alembic) -> None:
    migrated = asyncio.run(inspect_database(database_url))
    assert "items" in migrated["tables"]
    assert migrated["differences"] == []

    run_alembic("downgrade", database_url, "base")
    emptied = asyncio.run(inspect_database(database_url))
    assert "items" not in emptied["tables"]
    assert emptied["version"] is None

    run_alembic("upgrade", database_url, "head")
    assert asyncio.run(inspect_database(database_url)) == migrated
