"""The database feature's test fixtures: a Postgres server for the session (see tests/servers.py)
with a template database migrated once (`alembic upgrade head`), and `database_url`, a fresh
database per test cloned from it and dropped after."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from glob import glob
from itertools import count
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from pytest_postgresql import factories as postgresql_factories
from pytest_postgresql.janitor import DatabaseJanitor

from tests.servers import docker_answers, from_environment, no_server

MADE_UP = "hunter2"
"""A made-up password (not a secret) the tests look for in output, where it must never appear."""
EXAMPLE_ENV = {"DATABASE_URL": f"postgresql://app:{MADE_UP}@db.example:5432/app"}
"""A valid value of every setting without a default (for tests that build Settings alone)."""
BAD_ENV = {
    "DATABASE_URL": [
        "",
        MADE_UP,
        f"postgresql://app:{MADE_UP}@db.example:port/app",
        f"mysql://app:{MADE_UP}@db.example/app",
        f"postgresql://app:{MADE_UP}@db.example:5432",
    ],
    "DATABASE_POOL_SIZE": ["0", "ten"],
    "DATABASE_STATEMENT_TIMEOUT": ["-1"],
}
"""Values each setting must refuse (with one line naming it, never showing the value)."""

ROOT = Path(__file__).resolve().parents[2]
Alembic = Callable[[str, str, str], None]
POSTGRES_ENV = from_environment("DATABASE_URL")


def alembic(action: str, url: str, revision: str) -> None:
    """`alembic ACTION REVISION` against url, on a thread (env.py runs an event loop of its own)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    run = getattr(command, action)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run, config, revision).result()


def postgres_url(server: Any, dbname: str) -> str:
    user = quote(server.user or "postgres", safe="")
    password = f":{quote(server.password, safe='')}" if server.password else ""
    return f"postgresql://{user}{password}@{server.host}:{server.port}/{dbname}"


def migrate(
    *, host: str, port: int, user: str, dbname: str, password: str | None, **_: Any
) -> None:
    """pytest-postgresql's loader: migrates the template database once per session."""
    server = SimpleNamespace(host=host, port=port, user=user, password=password)
    alembic("upgrade", postgres_url(server, dbname), "head")


def _pg_ctl() -> str | None:
    """pg_ctl on PATH, else the newest Debian/Ubuntu server package's."""
    found = shutil.which("pg_ctl") or max(glob("/usr/lib/postgresql/*/bin/pg_ctl"), default=None)
    return found if found and os.geteuid() != 0 else None  # initdb refuses to run as root


PG_CTL = _pg_ctl()
# A throwaway server: durability buys nothing, so it is off (as riso runs its own test servers).
THROWAWAY = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
postgresql_local = postgresql_factories.postgresql_proc(
    executable=PG_CTL, postgres_options=THROWAWAY, load=[migrate]
)
postgresql_container = postgresql_factories.postgresql_noproc(
    dbname="tests", depends_on="postgres_container", load=[migrate]
)
if POSTGRES_ENV is not None:
    postgresql_existing = postgresql_factories.postgresql_noproc(
        host=POSTGRES_ENV.host,
        port=POSTGRES_ENV.port or 5432,
        user=POSTGRES_ENV.user or "postgres",
        password=POSTGRES_ENV.password,
        dbname=f"tests_{POSTGRES_ENV.path or 'app'}",
        load=[migrate],
    )


@pytest.fixture(scope="session")
def postgres_container() -> Iterator[Any]:
    from testcontainers.postgres import PostgresContainer

    # A throwaway container on a random local port, removed after the session: not a secret.
    password = "postgres"  # nosec B105  # pragma: allowlist secret
    with PostgresContainer("postgres:16", username="postgres", password=password) as container:
        yield SimpleNamespace(
            host=container.get_container_host_ip(),
            port=int(container.get_exposed_port(5432)),
            user="postgres",
            password=password,
            options="",
            maintenance_dbname="postgres",
            template_dbname=None,
        )


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Any:
    """The session's Postgres (pytest-postgresql executor) with a migrated template database."""
    if POSTGRES_ENV is not None:
        return request.getfixturevalue("postgresql_existing")
    if PG_CTL is not None:
        return request.getfixturevalue("postgresql_local")
    if docker_answers():
        return request.getfixturevalue("postgresql_container")
    no_server("Postgres", "DATABASE_URL", "Postgres server (pg_ctl; not as root)")


DATABASES = count()


@pytest.fixture
def database_url(postgres_server: Any) -> Iterator[str]:
    """A database of its own for this test, cloned from the migrated template, dropped after."""
    dbname = f"{postgres_server.template_dbname}_{os.getpid()}_{next(DATABASES)}"
    janitor = DatabaseJanitor(
        user=postgres_server.user,
        host=postgres_server.host,
        port=postgres_server.port,
        password=postgres_server.password,
        dbname=dbname,
        template_dbname=postgres_server.template_dbname,
        maintenance_dbname=postgres_server.maintenance_dbname,
    )
    with janitor:
        yield postgres_url(postgres_server, dbname)


@pytest.fixture
def run_alembic() -> Alembic:
    return alembic


@pytest.fixture
def database_settings(database_url: str) -> dict[str, Any]:
    return {"database_url": database_url}


@pytest.fixture
def database_reset(database_url: str) -> Callable[[], None]:
    """Empties the items table, ids from 1 again (the OpenAPI fuzz test's `fresh_state`)."""

    def reset() -> None:
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute("TRUNCATE items RESTART IDENTITY")

    return reset
