"""Alembic: upgrade -> downgrade -> upgrade, the models agree with the migrations, and a new
revision is named like the first and passes ruff as written."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
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


ROOT = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"\d{4}_\d{2}_\d{2}_\d{4}_(?P<rev>[0-9a-f]+)_(?P<slug>\w+)\.py")


def test_the_first_migration_is_named_by_the_template() -> None:
    first = min((ROOT / "migrations" / "versions").glob("*.py"))  # features may add later ones
    named = NAMED.fullmatch(first.name)
    assert named is not None
    assert named["rev"] == "0001"


def test_a_new_revision_is_named_like_the_first_and_passes_ruff(database_url: str) -> None:
    # Inside the project, so ruff reads the project's settings; removed afterwards.
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".migrations-test-") as scratch:
        migrations = Path(scratch) / "migrations"
        shutil.copytree(
            ROOT / "migrations", migrations, ignore=shutil.ignore_patterns("__pycache__")
        )
        before = set((migrations / "versions").glob("*.py"))
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(migrations))
        config.attributes["database_url"] = database_url
        config.attributes["configure_logger"] = False
        with ThreadPoolExecutor(max_workers=1) as pool:  # env.py runs an event loop of its own
            pool.submit(command.revision, config, "add tags", autogenerate=True).result()
        [new] = set((migrations / "versions").glob("*.py")) - before  # not __pycache__
        named = NAMED.fullmatch(new.name)
        assert named is not None, new.name
        assert named["slug"] == "add_tags"
        for check in (["check"], ["format", "--check"]):
            ruff = [sys.executable, "-m", "ruff", *check, str(new)]
            done = subprocess.run(ruff, cwd=ROOT, capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stdout + done.stderr
