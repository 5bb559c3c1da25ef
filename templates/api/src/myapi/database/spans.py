"""With the monitoring feature: a span per SQL statement, child of the request's (or CLI run's)
span, when tracing is on."""

from __future__ import annotations

from opentelemetry import metrics, trace
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.instrumentation.sqlalchemy.version import __version__
from sqlalchemy.ext.asyncio import AsyncEngine

from myapi.monitoring import tracing


def trace_engine(engine: AsyncEngine) -> None:
    """Trace this engine only (`SQLAlchemyInstrumentor().instrument()` would patch every engine
    the process creates, once, with the first app's provider)."""
    provider = tracing.current()
    if provider is None:
        return
    name = "opentelemetry.instrumentation.sqlalchemy"
    tracer = trace.get_tracer(name, __version__, provider)
    # The pool-usage counter goes to the global meter provider: none is set, so it is a no-op
    # (the pool's numbers are on /metrics already).
    usage = metrics.get_meter(name, __version__).create_up_down_counter(
        "db.client.connections.usage", unit="connections"
    )
    EngineTracer(tracer, engine.sync_engine, usage)  # type: ignore[no-untyped-call]
