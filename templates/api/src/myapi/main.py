"""The FastAPI application: `create_app(settings)` builds it; its lifespan opens and closes
the database engine and the Redis client.

Run it with `python -m myapi serve`,
or `uvicorn myapi.main:create_app --factory`.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from myapi import __version__
from myapi.api.routes import health, items, metrics
from myapi.core.config import Settings
from myapi.db.engine import DatabaseBusy
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

    # The app exports its own metrics and spans (observability/). FastAPI's built-in telemetry
    # would duplicate them once a global OpenTelemetry provider is set, and checks for one on
    # every request: off.
    app = FastAPI(
        title=settings.app_name,
        version=__version__,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.add_exception_handler(DatabaseBusy, database_busy)
    app.include_router(health.router)
    app.include_router(items.router)
    app.include_router(metrics.router)
    app.state.metrics = HttpMetrics()
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics, access_log=settings.access_log)
    if tracer_provider is not None:
        tracing.instrument(app, tracer_provider)
    # Modules, routes and models live as long as the process: exempt them from the cyclic
    # garbage collector, whose full collections would otherwise rescan them (pauses of tens of
    # milliseconds under load).
    gc.freeze()
    return app


async def database_busy(request: Request, exc: Exception) -> JSONResponse:
    """Every connection stayed busy for the whole pool timeout: ask the client to retry."""
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})
