"""Shared fixtures.

The services come from published pytest plugins the lock installs (pytest-postgresql, pytest-redis),
tried in this order:

1. the server in DATABASE_URL / REDIS_URL when set (`eval "$(riso env)"`, CI service containers,
   the Nix check): the plugins' `noproc` mode; tests use databases of their own on it;
2. a throwaway server from local binaries (pg_ctl, redis-server), started once for the session;
3. a container (testcontainers) when a Docker engine answers;
4. else the test fails saying what to install or set.

`database_url` is a fresh database per test, cloned from a template migrated once per session with
`alembic upgrade head`.
`redis_url` is a Redis database emptied before each test (never the database of REDIS_URL itself).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from glob import glob
from itertools import count
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NoReturn
from urllib.parse import quote, unquote, urlsplit

import httpx
import pytest
from alembic import command
from alembic.config import Config
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pytest_postgresql import factories as postgresql_factories
from pytest_postgresql.janitor import DatabaseJanitor
from pytest_redis import factories as redis_factories
from redis import Redis

from myapi.core.config import Settings
from myapi.main import create_app

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")


def _from_environment(variable: str) -> Any:
    """The parts of the URL in `variable` (None when unset), for the plugins' noproc mode."""
    url = os.environ.get(variable, "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    return SimpleNamespace(
        url=url,
        host=parts.hostname or "127.0.0.1",
        port=parts.port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        path=parts.path.lstrip("/"),
    )


def _docker_answers() -> bool:
    try:
        import docker  # installed with testcontainers

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


def _no_server(label: str, variable: str, install: str) -> NoReturn:
    pytest.fail(
        f"no {label} server for the tests: {variable} is not set, no local {install} was found "
        'and no Docker engine answered. Fix: run `riso up -d` and `eval "$(riso env)"`, '
        f"install {install}, or start Docker",
        pytrace=False,
    )


ROOT = Path(__file__).resolve().parents[1]
Alembic = Callable[[str, str, str], None]
POSTGRES_ENV = _from_environment("DATABASE_URL")


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

    with PostgresContainer("postgres:16", username="postgres", password="postgres") as container:
        yield SimpleNamespace(
            host=container.get_container_host_ip(),
            port=int(container.get_exposed_port(5432)),
            user="postgres",
            password="postgres",
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
    if _docker_answers():
        return request.getfixturevalue("postgresql_container")
    _no_server("Postgres", "DATABASE_URL", "Postgres server (pg_ctl; not as root)")


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


REDIS_ENV = _from_environment("REDIS_URL")
REDIS_SERVER = shutil.which("redis-server")
redis_local = redis_factories.redis_proc(executable=REDIS_SERVER or "redis-server")
if REDIS_ENV is not None:
    redis_existing = redis_factories.redis_noproc(
        host=REDIS_ENV.host,
        port=REDIS_ENV.port or 6379,
        username=REDIS_ENV.user,
        password=REDIS_ENV.password,
    )


def _tests_database(url_database: str) -> int:
    """On a shared server: not the URL's own database (the app's data), one per xdist worker."""
    own = int(url_database) if url_database.isdigit() else 0
    choices = [n for n in range(15, -1, -1) if n != own]
    return choices[int(WORKER) % len(choices) if WORKER.isdigit() else 0]


@pytest.fixture(scope="session")
def redis_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of the Redis database this session's tests use."""
    if REDIS_ENV is not None:
        server = request.getfixturevalue("redis_existing")
        database = _tests_database(REDIS_ENV.path)
    elif REDIS_SERVER is not None:
        server, database = request.getfixturevalue("redis_local"), 0
    elif _docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
        return
    else:
        _no_server("Redis", "REDIS_URL", "redis-server")
    user = quote(server.username or "", safe="")
    password = f":{quote(server.password, safe='')}" if server.password else ""
    auth = f"{user}{password}@" if user or password else ""
    yield f"redis://{auth}{server.host}:{server.port}/{database}"


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """A Redis database emptied (FLUSHDB) before this test."""
    with Redis.from_url(redis_server) as client:
        client.flushdb()
    return redis_server


@pytest.fixture
def settings(database_url: str, redis_url: str) -> Settings:
    """Settings for the test services only: no `.env`, no tracing."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        redis_url=redis_url,
        otel_exporter_otlp_endpoint=None,
    )


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app started (lifespan included) with an HTTP client talking to it in-process."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
def serve() -> Serve:
    return running


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as client:
        yield client
