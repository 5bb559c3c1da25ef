"""The FastAPI application: `create_app(settings)` builds it; its lifespan opens and closes
what the app holds for its lifetime.

Run it with `python -m myapp serve`,
or `uvicorn myapp.main:create_app --factory`.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from myapp import __version__
from myapp.api.routes import health
from myapp.core.config import Settings
from myapp.health import Readiness


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.readiness = Readiness(
            {},
            timeout=settings.readiness_timeout,
            cache_seconds=settings.readiness_cache_seconds,
        )
        yield

    app = FastAPI(title=settings.app_name, version=__version__, lifespan=lifespan)
    app.include_router(health.router)
    # Modules, routes and models live as long as the process: exempt them from the cyclic
    # garbage collector, whose full collections would otherwise rescan them (pauses of tens of
    # milliseconds under load).
    gc.freeze()
    return app
