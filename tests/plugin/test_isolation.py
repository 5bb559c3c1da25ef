"""The building blocks behind the fixtures, against the real servers riso's Runner starts."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis
from plugin_helpers import pg

from riso.errors import RisoError
from riso.testing import local, redis_db
from riso.testing.pgadmin import AdminConnection, database_of, plain_url, safe_url, with_database
from riso.testing.postgres_isolation import TemplateDatabases, clone_strategy


@pytest.fixture
def admin(running_services: dict[str, str]) -> Iterator[AdminConnection]:
    conn = AdminConnection(with_database(running_services["DATABASE_URL"], "postgres"))
    yield conn
    conn.close()


def databases(admin: AdminConnection, prefix: str) -> list[str]:
    rows = pg(admin.url, "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1", prefix)
    return [row[0] for row in rows]


def test_clones_are_migrated_distinct_and_all_dropped_at_close(admin: AdminConnection) -> None:
    calls: list[str] = []

    def migrate(url: str) -> None:
        calls.append(url)
        pg(url, "CREATE TABLE items (id int PRIMARY KEY)")

    templates = TemplateDatabases(admin, prefix="riso_t_clone")
    templates.build_template(migrate)
    urls = [templates.acquire() for _ in range(3)]

    assert calls == [with_database(admin.url, "riso_t_clone_template")]
    assert len({database_of(u) for u in urls}) == 3
    for url in urls:
        pg(url, "INSERT INTO items VALUES (1)")  # same key in each: no conflict
        assert pg(url, "SELECT count(*) FROM items") == [(1,)]
    templates.release(urls[0])
    templates.close()
    assert databases(admin, "riso_t_clone") == []


def test_a_migration_leaving_connections_open_does_not_block_cloning(admin: AdminConnection) -> None:
    loop = asyncio.new_event_loop()
    leaked: list[asyncpg.Connection] = []

    def migrate(url: str) -> None:  # like an engine whose pool is never disposed
        leaked.append(loop.run_until_complete(asyncpg.connect(url)))

    templates = TemplateDatabases(admin, prefix="riso_t_leak")
    try:
        templates.build_template(migrate)
        assert templates.acquire()
    finally:
        templates.close()
        loop.close()
    assert databases(admin, "riso_t_leak") == []


def test_a_failing_migration_leaves_no_template_behind(admin: AdminConnection) -> None:
    def migrate(url: str) -> None:
        raise RuntimeError("migration broke")

    templates = TemplateDatabases(admin, prefix="riso_t_fail")
    with pytest.raises(RuntimeError, match="migration broke"):
        templates.build_template(migrate)
    templates.close()
    assert databases(admin, "riso_t_fail") == []


def test_clone_strategy_is_file_copy_only_in_ram_without_fsync(admin: AdminConnection) -> None:
    if admin.server_version() < 15:
        pytest.skip("CREATE DATABASE has no STRATEGY before Postgres 15")
    assert pg(admin.url, "SHOW fsync") == [("off",)]
    assert clone_strategy(admin, data_in_ram=True) == "FILE_COPY"
    assert clone_strategy(admin, data_in_ram=False) == "WAL_LOG"


def test_tmpfs_is_recognised() -> None:
    if " /dev/shm tmpfs " not in Path("/proc/mounts").read_text():
        pytest.skip("no tmpfs at /dev/shm here")
    folder = Path(tempfile.mkdtemp(dir="/dev/shm"))
    try:
        assert local.on_tmpfs(folder)
    finally:
        folder.rmdir()
    assert not local.on_tmpfs(Path("/proc/self"))


def test_redis_flush_empties_only_its_database(running_services: dict[str, str]) -> None:
    url = running_services["REDIS_URL"]
    test_url = redis_db.with_database(url, redis_db.database_for_tests(url))
    with redis.Redis.from_url(url) as app, redis.Redis.from_url(test_url) as tests:
        app.set("app-key", 1)
        tests.set("test-key", 1)
        redis_db.flush(test_url)
        assert tests.dbsize() == 0
        assert app.get("app-key") == b"1"


def test_redis_problems_are_one_line() -> None:
    with pytest.raises(RisoError, match=r"cannot reach Redis at 127\.0\.0\.1:1: "):
        redis_db.flush("redis://127.0.0.1:1/0", timeout=2)


def test_redis_refusal_names_the_command(running_services: dict[str, str]) -> None:
    with pytest.raises(RisoError, match="refused AUTH"):
        redis_db.flush(running_services["REDIS_URL"].replace("redis://", "redis://:wrong@"))


def test_redis_test_database_is_never_the_apps_and_differs_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert redis_db.database_for_tests("redis://h:1/0") == 15
    assert redis_db.database_for_tests("redis://h:1/15") == 14
    chosen = set()
    for worker in range(15):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", f"gw{worker}")
        chosen.add(redis_db.database_for_tests("redis://h:1/3"))
    assert len(chosen) == 15
    assert 3 not in chosen


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql+asyncpg://u:p@h:5/app", "postgresql://u:p@h:5/app"),
        ("postgres://u@h/app", "postgresql://u@h/app"),
        ("postgresql://u@h:5/app?sslmode=require", "postgresql://u@h:5/app?sslmode=require"),
    ],
)
def test_urls_are_plain_postgresql(given: str, expected: str) -> None:
    assert plain_url(given) == expected


def test_url_helpers() -> None:
    assert with_database("postgresql+asyncpg://u:p@h:5/app?x=1", "postgres") == "postgresql://u:p@h:5/postgres?x=1"
    assert safe_url("postgresql://u:secret@h:5/app") == "postgresql://u@h:5/app"
    with pytest.raises(RisoError, match="not a Postgres URL"):
        plain_url("mysql://h/db")


def test_open_owns_its_two_connections_and_leaves_nothing(running_services: dict[str, str]) -> None:
    url = with_database(running_services["DATABASE_URL"], "postgres")
    templates = TemplateDatabases.open(url, prefix="riso_t_open")
    templates.build_template(lambda u: pg(u, "CREATE TABLE t (id int PRIMARY KEY)"))
    first, second = templates.acquire(), templates.acquire()
    templates.release(first)
    templates.close()
    assert pg(url, "SELECT datname FROM pg_database WHERE starts_with(datname, 'riso_t_open')") == []
    assert database_of(first) != database_of(second)
