"""The items API while Redis fails: reads are answered from the database, writes succeed, /readyz
says `degraded` (200), and once Redis is back no read returns what a write replaced."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from myapi.cache.client import RedisCache
from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve
from tests.faults import Proxy

QUICK = {"readiness_cache_seconds": 0, "cache_retry_seconds": 0.3}


@pytest.fixture
async def proxy(redis_url: str) -> AsyncIterator[Proxy]:
    async with Proxy(redis_url) as running:
        yield running


def with_redis(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={**QUICK, "redis_url": SecretStr(url)})


async def wait_for_pending_invalidations(app: FastAPI) -> None:
    """Until the app's cache has applied every invalidation that failed."""
    cache = app.state.resources.get(RedisCache)
    for _ in range(100):
        if cache.pending == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{cache.pending} invalidations still pending")


async def test_everything_works_while_redis_is_stopped(
    settings: Settings, serve: Serve, closed_port: int
) -> None:
    app = create_app(with_redis(settings, f"redis://127.0.0.1:{closed_port}/0"))
    async with serve(app) as client:
        created = await client.post("/items", json={"name": "first"})
        assert created.status_code == 201
        url = f"/items/{created.json()['id']}"
        assert (await client.get(url)).json()["name"] == "first"
        assert (await client.get(url)).json()["name"] == "first"
        updated = await client.patch(url, json={"name": "second"})
        assert updated.status_code == 200
        assert (await client.get(url)).json()["name"] == "second"
        assert (await client.get("/items")).status_code == 200
        ready = await client.get("/readyz")
        assert (await client.delete(url)).status_code == 204
        assert (await client.get(url)).status_code == 404
    body = ready.json()
    assert body["degraded"] == ["cache"]
    # Degraded, not down: 200, unless a feature that needs Redis (tasks) fails with it.
    assert ready.status_code == (503 if body["failing"] else 200)
    assert body["status"] == ("unavailable" if body["failing"] else "degraded")


async def test_no_stale_read_after_redis_comes_back(
    settings: Settings, serve: Serve, proxy: Proxy
) -> None:
    app = create_app(with_redis(settings, proxy.url))
    async with serve(app) as client:
        created = await client.post("/items", json={"name": "old"})
        url = f"/items/{created.json()['id']}"
        assert (await client.get(url)).json()["name"] == "old"  # now cached in Redis

        await proxy.stop()  # Redis stops, holding the cached "old"
        started = time.perf_counter()
        updated = await client.patch(url, json={"name": "new"})
        assert updated.status_code == 200
        assert updated.json()["name"] == "new"
        assert (await client.get(url)).json()["name"] == "new"
        assert (await client.get("/readyz")).json()["degraded"] == ["cache"]
        assert time.perf_counter() - started < 2

        await proxy.start()  # Redis is back, "old" still in it
        assert (await client.get("/readyz")).json()["status"] == "ready"
        assert (await client.get(url)).json()["name"] == "new"
        await wait_for_pending_invalidations(app)
        assert (await client.get(url)).json()["name"] == "new"
        assert (await client.get("/readyz")).json()["status"] == "ready"

    # Another replica, reading through the same Redis, never sees "old" either.
    async with serve(create_app(with_redis(settings, proxy.url))) as other:
        assert (await other.get(url)).json()["name"] == "new"


async def test_a_paused_redis_slows_nothing_down(
    settings: Settings, serve: Serve, redis_url: str, pause_redis: Callable[[float], None]
) -> None:
    app = create_app(with_redis(settings, redis_url))
    async with serve(app) as client:
        created = await client.post("/items", json={"name": "old"})
        url = f"/items/{created.json()['id']}"
        assert (await client.get(url)).json()["name"] == "old"  # cached

        pause_redis(1.5)
        started = time.perf_counter()
        read = await client.get(url)
        updated = await client.patch(url, json={"name": "new"})
        reread = await client.get(url)
        elapsed = time.perf_counter() - started
        assert (read.status_code, updated.status_code, reread.status_code) == (200, 200, 200)
        assert reread.json()["name"] == "new"
        assert elapsed < 1.2  # one command timed out; then Redis was left alone

        await asyncio.sleep(1.6)  # the pause is over
        await wait_for_pending_invalidations(app)
        assert (await client.get(url)).json()["name"] == "new"

    async with serve(create_app(with_redis(settings, redis_url))) as other:
        assert (await other.get(url)).json()["name"] == "new"
