"""The cache feature's test fixtures: a Redis server for the session (see tests/servers.py), and
`redis_url`, a Redis database emptied before each test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from pytest_redis import factories as redis_factories
from redis import Redis

from tests.servers import WORKER, docker_answers, from_environment, no_server

EXAMPLE_ENV = {"REDIS_URL": "redis://:hunter2@cache.example:6379/0"}
"""A valid value of every setting without a default (for tests that build Settings alone)."""
BAD_ENV = {
    "REDIS_URL": ["", "http://:hunter2@cache.example", "redis://:hunter2@cache.example:port/0"],
    "REDIS_TIMEOUT": ["0"],
    "CACHE_TTL_SECONDS": ["forever"],
}
"""Values each setting must refuse (with one line naming it, never showing the value)."""

REDIS_ENV = from_environment("REDIS_URL")
REDIS_SERVER = shutil.which("redis-server")
redis_local = redis_factories.redis_proc(executable=REDIS_SERVER or "redis-server")
if REDIS_ENV is not None:
    redis_existing = redis_factories.redis_noproc(
        host=REDIS_ENV.host,
        port=REDIS_ENV.port or 6379,
        username=REDIS_ENV.user,
        password=REDIS_ENV.password,
    )


def tests_database(url_database: str) -> int:
    """On a shared server: not the URL's own database (the app's data), one per xdist worker."""
    own = int(url_database) if url_database.isdigit() else 0
    choices = [n for n in range(15, -1, -1) if n != own]
    return choices[int(WORKER) % len(choices) if WORKER.isdigit() else 0]


@pytest.fixture(scope="session")
def redis_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of the Redis database this session's tests use."""
    if REDIS_ENV is not None:
        server = request.getfixturevalue("redis_existing")
        database = tests_database(REDIS_ENV.path)
    elif REDIS_SERVER is not None:
        server, database = request.getfixturevalue("redis_local"), 0
    elif docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            host, port = container.get_container_host_ip(), container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
        return
    else:
        no_server("Redis", "REDIS_URL", "redis-server")
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
def cache_settings(redis_url: str) -> dict[str, Any]:
    return {"redis_url": redis_url}


@pytest.fixture
def pause_redis(redis_url: str) -> Callable[[float], None]:
    """`pause_redis(seconds)`: Redis answers no client for that long (`CLIENT PAUSE ... ALL`)."""

    def pause(seconds: float) -> None:
        with Redis.from_url(redis_url) as client:
            client.execute_command("CLIENT", "PAUSE", int(seconds * 1000), "ALL")

    return pause
