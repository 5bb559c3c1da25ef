"""The api feature's test fixtures: the app served in-process (lifespan included) with a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from myapi.core.config import Settings
from myapi.main import create_app

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


BAD_ENV = {"PORT": ["0", "http"], "MAX_BODY_BYTES": ["-1"]}
"""Values each setting must refuse (with one line naming it, never showing the value)."""


@pytest.fixture
def api_settings() -> dict[str, Any]:
    return {}
