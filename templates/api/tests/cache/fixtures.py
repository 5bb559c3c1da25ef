"""The cache feature's test fixtures: its settings point at `redis_url`, a Redis database emptied
before each test (tests/redis_server.py, shared with every feature that uses Redis)."""

from __future__ import annotations

from typing import Any

import pytest

EXAMPLE_ENV = {"REDIS_URL": "redis://cache.example:6379/0"}
"""A valid value of every setting without a default (for tests that build Settings alone)."""


@pytest.fixture
def cache_settings(redis_url: str) -> dict[str, Any]:
    return {"redis_url": redis_url}
