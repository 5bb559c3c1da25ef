"""Helpers for the pytest plugin's tests: inner pytest runs and the files they write, ports, queries."""

from __future__ import annotations

import asyncio
import socket
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

# The variables the plugin reads; each test sets the ones it wants.
PLUGIN_ENV = ("DATABASE_URL", "REDIS_URL", "RISO_PLAN", "PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS")
INNER_TIMEOUT = 180

# Written into every inner run: a query helper and a riso_migrate override that counts its calls.
INNER_HELPERS = """
import asyncio
import os
from pathlib import Path

import asyncpg

HERE = Path(__file__).parent


def query(url, sql, *args):
    async def go():
        conn = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(go())


def record(name, line):
    with (HERE / name).open("a") as f:
        f.write(f"{line}\\n")
"""

INNER_CONFTEST = """
import os

import pytest

from helpers import query, record


@pytest.fixture(scope="session")
def riso_migrate():
    def migrate(url):
        record("migrate_calls.txt", os.environ.get("PYTEST_XDIST_WORKER", "main") + " " + url)
        query(url, "CREATE TABLE items (id int PRIMARY KEY, owner text NOT NULL)")
        query(url, "CREATE INDEX items_owner_idx ON items (owner)")

    return migrate
"""

# Two tests write the same primary key; each must find its database empty and never conflict.
SAME_ROW_TESTS = """
import pytest

from helpers import query, record


@pytest.mark.parametrize("owner", ["first", "second", "third", "fourth"])
def test_same_row_in_own_database(database_url, owner):
    assert query(database_url, "SELECT id, owner FROM items") == []
    query(database_url, "INSERT INTO items VALUES (1, $1)", owner)
    assert query(database_url, "SELECT id, owner FROM items") == [(1, owner)]
    record("database_urls.txt", database_url)
"""

REDIS_TESTS = """
import os

import pytest
import redis

from helpers import record


@pytest.mark.parametrize("n", [1, 2])
def test_redis_starts_empty(redis_url, n):
    client = redis.Redis.from_url(redis_url)
    assert client.dbsize() == 0
    client.set("shared-key", n)
    record("redis_urls.txt", os.environ.get("PYTEST_XDIST_WORKER", "main") + " " + redis_url)
    client.close()
"""


def write_inner(pytester: pytest.Pytester, **files: str) -> None:
    pytester.makepyfile(helpers=INNER_HELPERS)
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(**{name: textwrap.dedent(body) for name, body in files.items()})


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A separate pytest process (the plugin loads from its entry point, as in a user's project)."""
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA", *args, timeout=INNER_TIMEOUT)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def port_refuses(port: int, timeout: float = 15) -> bool:
    """True once nothing listens on 127.0.0.1:port any more (waits up to `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            return True
        time.sleep(0.1)
    return False


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None, url
    return port


def pg(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    async def go() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(go())
