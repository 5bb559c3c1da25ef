"""The FastAPI application: `create_app(settings)` builds it; its lifespan opens and closes
the database engine and the Redis client.

Run it with `python -m myapi serve`, or `uvicorn myapi.main:create_app --factory`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from myapi import __version__
from myapi.api.routes import health, items, metrics
from myapi.core.config import Settings
from myapi.health import Readiness
from myapi.observability import tracing
from myapi.observability.logging import JsonLogging
from myapi.observability.metrics import HttpMetrics
from myapi.observability.middleware import RequestMiddleware
from myapi.resources import open_resources


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    logs = JsonLogging(settings.log_level)
    tracer_provider = tracing.create_tracer_provider(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_resources(settings) as resources:
            app.state.resources = resources
            app.state.readiness = Readiness(
                resources.probes(),
                timeout=settings.readiness_timeout,
                cache_seconds=settings.readiness_cache_seconds,
            )
            try:
                yield
            finally:
                if tracer_provider is not None:  # flushes spans: blocking, so off the loop
                    await asyncio.to_thread(tracer_provider.shutdown)
                logs.close()

    app = FastAPI(title=settings.app_name, version=__version__, lifespan=lifespan)
    app.include_router(health.router)
    app.include_router(items.router)
    app.include_router(metrics.router)
    app.state.metrics = HttpMetrics()
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics, access_log=settings.access_log)
    if tracer_provider is not None:
        tracing.instrument(app, tracer_provider)
    return app
