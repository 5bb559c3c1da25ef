"""With the monitoring feature: a span per command the job queue sends to Redis (enqueueing,
dequeueing, results), child of the request's (or CLI run's) span, when tracing is on."""

from __future__ import annotations

from opentelemetry.instrumentation.redis import RedisInstrumentor
from redis.asyncio import Redis

from myapi.monitoring import tracing


def trace_redis(redis: Redis) -> None:
    """Trace this client only (`RedisInstrumentor().instrument()` would patch every client)."""
    provider = tracing.current()
    if provider is not None:
        RedisInstrumentor.instrument_client(redis, tracer_provider=provider)
