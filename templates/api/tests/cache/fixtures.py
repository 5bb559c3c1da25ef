"""The cache feature's test fixtures: its settings point at `redis_url`, a Redis database emptied
before each test (tests/redis_server.py, shared with every feature that uses Redis)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from redis import Redis

EXAMPLE_ENV = {"REDIS_URL": "redis://:hunter2@cache.example:6379/0"}
"""A valid value of every setting without a default (for tests that build Settings alone)."""
BAD_ENV = {
    "REDIS_URL": ["", "http://:hunter2@cache.example", "redis://:hunter2@cache.example:port/0"],
    "REDIS_TIMEOUT": ["0"],
    "CACHE_TTL_SECONDS": ["forever"],
}
"""Values each setting must refuse (with one line naming it, never showing the value)."""


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


@pytest.fixture
def cache_reset(redis_url: str) -> Callable[[], None]:
    """Empties the cache (the OpenAPI fuzz test's `fresh_state`)."""

    def reset() -> None:
        with Redis.from_url(redis_url) as client:
            client.flushdb()

    return reset
