"""The items API when Postgres fails: stopped (503 + Retry-After, then the first request after
it is back succeeds), restarted under the pool's feet (its connections are tested before use),
too slow (a held lock: 503 after the statement timeout), or refusing a write (409/422)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import NullPool, text
from sqlalchemy.ext.asyncio import create_async_engine

from myapi.core.config import Settings
from myapi.database.engine import Database
from myapi.main import create_app
from tests.api.fixtures import Serve
from tests.faults import Proxy

QUICK = {"readiness_cache_seconds": 0}


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert response.json()["request_id"] == response.headers["x-request-id"]


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[Proxy]:
    async with Proxy(database_url) as running:
        yield running


async def test_a_stopped_database_is_a_503_and_its_return_is_served_at_once(
    settings: Settings, serve: Serve, proxy: Proxy
) -> None:
    update = {**QUICK, "database_url": SecretStr(proxy.url), "database_connect_timeout": 1}
    app = create_app(settings.model_copy(update=update))
    async with serve(app) as client:
        assert (await client.post("/items", json={"name": "kept"})).status_code == 201

        await proxy.stop()  # every pooled connection is cut, new ones are refused
        assert_unavailable(await client.get("/items"))
        assert_unavailable(await client.post("/items", json={"name": "lost"}))
        assert (await client.get("/readyz")).status_code == 503
        assert (await client.get("/healthz")).status_code == 200

        await proxy.start()  # back, as after a restart
        first = await client.get("/items")
        assert first.status_code == 200
        assert [item["name"] for item in first.json()] == ["kept"]
        assert (await client.get("/readyz")).status_code == 200


async def test_the_first_request_after_a_restart_succeeds(settings: Settings, serve: Serve) -> None:
    app = create_app(settings)
    async with serve(app) as client:
        for number in range(3):  # the pool now holds a connection
            assert (await client.post("/items", json={"name": f"item {number}"})).status_code == 201
        await terminate_sessions(settings)  # what a restart does to it
        assert (await client.get("/items")).status_code == 200
        assert (await client.post("/items", json={"name": "after"})).status_code == 201


async def terminate_sessions(settings: Settings) -> None:
    """End every session on the app's database, from a connection outside its pool."""
    terminate = text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    engine = create_async_engine(settings.async_database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(terminate)
    finally:
        await engine.dispose()


async def test_a_statement_past_its_timeout_is_a_503(settings: Settings, serve: Serve) -> None:
    app = create_app(settings.model_copy(update={"database_statement_timeout": 0.2}))
    async with serve(app) as client:
        database: Database = app.state.resources.get(Database)
        async with database.transaction() as session:  # holds a lock every read waits for
            await session.execute(text("LOCK TABLE items IN ACCESS EXCLUSIVE MODE"))
            started = time.perf_counter()
            response = await client.get("/items")
            elapsed = time.perf_counter() - started
        assert_unavailable(response)
        assert elapsed < 2
        assert (await client.get("/items")).status_code == 200


async def test_constraint_violations_are_409_or_422(settings: Settings, serve: Serve) -> None:
    app = create_app(settings)

    @app.post("/raw/{name}")
    async def raw(name: str) -> dict[str, str]:
        database: Database = app.state.resources.get(Database)
        async with database.transaction() as session:
            values = {"name": None if name == "null" else name}
            await session.execute(text("INSERT INTO items (id, name) VALUES (1, :name)"), values)
        return {"inserted": name}

    async with serve(app) as client:
        assert (await client.post("/raw/first")).status_code == 200
        duplicate = await client.post("/raw/again")
        missing = await client.post("/raw/null")
    assert duplicate.status_code == 409
    assert missing.status_code == 422
    for response in (duplicate, missing):
        assert response.headers["content-type"] == "application/problem+json"
        assert "INSERT" not in response.text  # no SQL leaves the server


async def test_waiting_requests_do_not_pile_up_after_an_outage(
    settings: Settings, serve: Serve, proxy: Proxy
) -> None:
    update = {"database_url": SecretStr(proxy.url), "database_connect_timeout": 1}
    app = create_app(settings.model_copy(update=update))
    async with serve(app) as client:
        await proxy.stop()
        responses = await asyncio.gather(*(client.get("/items") for _ in range(20)))
        assert {response.status_code for response in responses} == {503}
        await proxy.start()
        responses = await asyncio.gather(*(client.get("/items") for _ in range(20)))
        assert {response.status_code for response in responses} == {200}
