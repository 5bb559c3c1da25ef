"""The database feature in the registry: the engine and the items service for the process's
lifetime, the `database` readiness probe, and the `items` commands."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from myapi.core.registry import Command, Feature, Metric, Resources
from myapi.database.engine import Database, DatabaseUnavailable
from myapi.database.items.schemas import ItemCreate
from myapi.database.items.service import ItemService
from myapi.database.spans import trace_engine

if TYPE_CHECKING:
    from myapi.core.config import Settings


@asynccontextmanager
async def open_database(settings: Settings, resources: Resources) -> AsyncIterator[None]:
    database = Database(settings)
    trace_engine(database.engine)
    try:
        resources.provide(Database, database)
        resources.provide(ItemService, ItemService(database, resources.cache))
        resources.probes["database"] = database.ping
        resources.metrics.extend(
            [
                Metric(
                    "database_connections_in_use",
                    "Pooled database connections checked out.",
                    "gauge",
                    database.connections_in_use,
                ),
                Metric(
                    "database_connections_waiting",
                    "Requests waiting for a database connection.",
                    "gauge",
                    lambda: database.waiting,
                ),
                Metric(
                    "database_pool_size",
                    "Database connections the pool keeps (DATABASE_POOL_SIZE).",
                    "gauge",
                    lambda: settings.database_pool_size,
                ),
            ]
        )
        yield
    finally:
        await database.close()


def configure_items(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="print items as JSON lines")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--offset", type=int, default=0)
    adding = actions.add_parser("add", help="add an item and print it")
    adding.add_argument("name")
    adding.add_argument("--description")


async def items(args: argparse.Namespace, settings: Settings, resources: Resources) -> int:
    service = resources.get(ItemService)
    if args.action == "add":
        item = await service.create(ItemCreate(name=args.name, description=args.description))
        print(item.model_dump_json())
        return 0
    for item in await service.list_page(args.limit, args.offset):
        print(item.model_dump_json())
    return 0


UNDEFINED_TABLE = "42P01"  # SQLSTATE: the schema lacks a table the code uses


def explain(error: BaseException) -> str | None:
    """The command line's one line for a database that is down or not migrated."""
    if isinstance(error, DatabaseUnavailable):
        return f"{error}: check DATABASE_URL and that Postgres runs (`riso up`)"
    if isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == UNDEFINED_TABLE:
        return "the database schema is not up to date: run `alembic upgrade head`"
    return None


FEATURE = Feature(
    name="database",
    open=open_database,
    commands=(Command("items", "list or add items", configure_items, run=items),),
    web=True,
    uses=("cache",),
    explain=explain,
)
