"""Pytest fixtures for riso projects (entry point `pytest11`).

    postgres_url  (session)   admin URL of a Postgres server (database `postgres`)
    riso_migrate  (session)   override it: returns `migrate(url)`, called once per session on the template
    database_url  (function)  URL of a fresh database cloned from the migrated template, dropped after the test
    redis_url     (function)  URL of a Redis database emptied before the test

Servers come from the environment, else local binaries, else testcontainers (see riso.testing.resolve);
ephemeral ones are shared by the session (one per xdist worker) and stopped when it ends, however it ends.
The database fixtures need asyncpg; importing this plugin needs nothing beyond riso. URLs are plain
`postgresql://` ones; an app on SQLAlchemy's asyncpg dialect swaps the scheme itself.

A project migrates its template like this (conftest.py):

    @pytest.fixture(scope="session")
    def riso_migrate():
        def migrate(url: str) -> None:
            subprocess.run(["alembic", "upgrade", "head"], check=True, env={**os.environ, "DATABASE_URL": url})

        return migrate
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from riso.errors import RisoError
from riso.testing import redis_db
from riso.testing.postgres_isolation import Migrate, TemplateDatabases, no_migration

if TYPE_CHECKING:
    from riso.testing.resolve import Resolved

T = TypeVar("T")


class Servers:
    """The session's servers, resolved on first use; `close` stops the ephemeral ones (idempotent)."""

    def __init__(self, rootdir: Path) -> None:
        self.rootdir = rootdir
        self.resolved: dict[str, Resolved] = {}

    def get(self, name: str) -> Resolved:
        if name not in self.resolved:
            # Imported on first use: it pulls in pydantic and the plan, which a session without
            # these fixtures should not pay for.
            from riso.testing.resolve import KINDS, resolve

            self.resolved[name] = resolve(KINDS[name], self.rootdir)
        return self.resolved[name]

    def close(self) -> None:
        errors: list[BaseException] = []
        for found in reversed(list(self.resolved.values())):
            stop, found.stop = found.stop, None
            if stop is not None:
                try:
                    stop()
                except Exception as err:
                    errors.append(err)
        if errors:
            raise errors[0]


SERVERS = pytest.StashKey[Servers]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[SERVERS] = Servers(config.rootpath)


def pytest_unconfigure(config: pytest.Config) -> None:
    # After every session fixture's teardown (they drop their databases first), even after Ctrl-C.
    servers = config.stash.get(SERVERS, None)
    if servers is None:
        return
    try:
        servers.close()
    except Exception as err:  # the run is over: report, do not turn it into an internal error
        sys.stderr.write(f"riso: could not stop the test servers: {err}\n")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    servers = config.stash.get(SERVERS, None)
    for found in servers.resolved.values() if servers else []:
        terminalreporter.write_line(f"riso: {found.service} from {found.source} ({found.reason})")


def _or_fail(work: Callable[[], T]) -> T:
    """`work()`; a RisoError becomes one line naming the problem and the fix, no traceback."""
    try:
        return work()
    except RisoError as err:
        problem = err
    # Outside the except block, so the report carries no "during handling" chain.
    fix = f". Fix: {problem.hint}" if problem.hint else ""
    pytest.fail(f"riso: {problem.message}{fix}", pytrace=False)


def _server(request: pytest.FixtureRequest, name: str) -> Resolved:
    servers = request.config.stash[SERVERS]
    return _or_fail(lambda: servers.get(name))


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> str:
    """Admin URL (database `postgres`) of the session's Postgres server."""
    return _server(request, "postgres").url


@pytest.fixture(scope="session")
def riso_migrate() -> Migrate:
    """Override in conftest.py to return `migrate(url)`, e.g. running `alembic upgrade head` against url."""
    return no_migration


@pytest.fixture(scope="session")
def riso_database_templates(
    request: pytest.FixtureRequest, postgres_url: str, riso_migrate: Migrate
) -> Iterator[TemplateDatabases]:
    """The session's migrated template database and its clones."""
    in_ram = _server(request, "postgres").data_in_ram
    templates = _or_fail(lambda: TemplateDatabases.open(postgres_url, data_in_ram=in_ram))
    try:
        templates.build_template(riso_migrate)
        yield templates
    finally:
        templates.close()


@pytest.fixture
def database_url(riso_database_templates: TemplateDatabases) -> Iterator[str]:
    """A database of its own for this test, migrated, dropped after the test."""
    url = _or_fail(riso_database_templates.acquire)
    yield url
    riso_database_templates.release(url)


@pytest.fixture(scope="session")
def riso_redis_server(request: pytest.FixtureRequest) -> str:
    """URL of the Redis database this session's tests use (never the app's own database on a shared server)."""
    from riso.testing.resolve import ENVIRONMENT

    found = _server(request, "redis")
    if found.source == ENVIRONMENT:
        return redis_db.with_database(found.url, redis_db.database_for_tests(found.url))
    return redis_db.with_database(found.url, 0)


@pytest.fixture
def redis_url(riso_redis_server: str) -> str:
    """A Redis database emptied (FLUSHDB) before this test."""

    def flushed() -> str:
        redis_db.flush(riso_redis_server)
        return riso_redis_server

    return _or_fail(flushed)
