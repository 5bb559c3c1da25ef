"""/healthz and /readyz."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
from fastapi import FastAPI

from myapi.core.config import Settings
from myapi.main import create_app

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_when_everything_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    checks: dict[str, str] = {"database": "ok", "cache": "ok"}
    assert response.json() == {"status": "ready", "checks": checks, "failing": []}


async def test_readyz_names_the_database_when_it_is_down(
    settings: Settings, serve: Serve, closed_port: int
) -> None:
    down = f"postgresql://postgres@127.0.0.1:{closed_port}/app"
    app = create_app(settings.model_copy(update={"database_url": down}))
    async with serve(app) as client:
        response = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["database"]
    assert body["checks"]["database"] != "ok"
    assert alive.status_code == 200  # alive, just not ready


async def test_readyz_names_the_cache_when_it_is_down(
    settings: Settings, serve: Serve, closed_port: int
) -> None:
    down = f"redis://127.0.0.1:{closed_port}/0"
    app = create_app(settings.model_copy(update={"redis_url": down}))
    async with serve(app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]
