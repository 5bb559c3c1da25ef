"""Many concurrent requests against the items list: all succeed, the pool never deadlocks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from fastapi import FastAPI

from myapi.core.config import Settings
from myapi.database.engine import Database
from myapi.main import create_app

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]
CONCURRENCY = 200
ROWS = 20


@pytest.mark.parametrize(
    "pool",
    [None, {"database_pool_size": 1, "database_max_overflow": 0}],
    ids=["configured-pool", "one-connection"],
)
async def test_concurrent_list_requests_all_succeed(
    settings: Settings, serve: Serve, pool: dict[str, int] | None
) -> None:
    app = create_app(settings.model_copy(update=pool or {}))
    async with serve(app) as client:
        for number in range(ROWS):
            response = await client.post("/items", json={"name": f"item {number}"})
            assert response.status_code == 201
        responses = await asyncio.gather(
            *(client.get("/items", params={"limit": ROWS}) for _ in range(CONCURRENCY))
        )
    assert [response.status_code for response in responses] == [200] * CONCURRENCY
    assert all(len(response.json()) == ROWS for response in responses)


async def test_waiting_too_long_for_a_connection_is_a_503(settings: Settings, serve: Serve) -> None:
    one = {"database_pool_size": 1, "database_max_overflow": 0, "database_pool_timeout": 0.1}
    app = create_app(settings.model_copy(update=one))
    async with serve(app) as client:
        async with app.state.resources.get(Database).transaction():  # holds the only connection
            response = await client.get("/items")
        assert (await client.get("/items")).status_code == 200
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert "no database connection free" in response.json()["detail"]
