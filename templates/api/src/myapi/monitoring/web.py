"""The app's monitoring: JSON logs, one middleware for metrics and the access log, /metrics in
Prometheus' text format, and a span per request when tracing is on."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from myapi.core.config import Settings
from myapi.monitoring import tracing
from myapi.monitoring.logging import JsonLogging
from myapi.monitoring.metrics import HttpMetrics
from myapi.monitoring.middleware import RequestMiddleware

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

router = APIRouter(tags=["monitoring"])


def install(app: FastAPI, settings: Settings, shutdown: AsyncExitStack) -> None:
    provider = tracing.create_tracer_provider(settings)
    context = tracing.current_ids if provider is not None else None
    logs = JsonLogging(settings.log_level, context=context)
    shutdown.callback(logs.close)
    app.state.metrics = HttpMetrics()
    app.add_middleware(RequestMiddleware, metrics=app.state.metrics, access_log=settings.access_log)
    app.include_router(router)
    if provider is not None:
        instrument(app, provider)
        # flushes spans: blocking, so off the loop
        shutdown.push_async_callback(asyncio.to_thread, provider.shutdown)


def instrument(app: FastAPI, provider: TracerProvider) -> None:
    """A span per request (probes and /metrics left out)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="healthz,readyz,metrics"
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    metrics: HttpMetrics = request.app.state.metrics
    metrics.features.resources = request.app.state.resources
    # The readiness round is shared with /readyz and reused briefly: scrapes add no load.
    metrics.features.report = await request.app.state.readiness.check()
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
