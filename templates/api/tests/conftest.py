"""Shared fixtures.

The riso pytest plugin (installed with riso, beside the project) provides the services:
`database_url` is a fresh database per test, cloned from one migrated with `riso_migrate` below;
`redis_url` is a Redis database emptied before each test;
both come from DATABASE_URL / REDIS_URL when set (`riso up`), else from servers started for
the session.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from myapi.core.config import Settings
from myapi.main import create_app

ROOT = Path(__file__).resolve().parents[1]
Alembic = Callable[[str, str, str], None]


def alembic(action: str, url: str, revision: str) -> None:
    """`alembic ACTION REVISION` against url, on a thread (env.py runs an event loop of its own)."""
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    run = getattr(command, action)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run, config, revision).result()


@pytest.fixture(scope="session")
def riso_migrate() -> Callable[[str], None]:
    """How the plugin migrates its template database (once per session)."""
    return lambda url: alembic("upgrade", url, "head")


@pytest.fixture
def run_alembic() -> Alembic:
    return alembic


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
