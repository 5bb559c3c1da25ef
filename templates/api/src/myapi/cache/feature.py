"""The cache feature in the registry: a Redis client for the process's lifetime, serving as the
cache every feature reads through, the `cache` readiness probe (optional: without Redis the
service is degraded, not down), its metrics, and the `fibonacci` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

from myapi.cache.client import RedisCache, create_redis
from myapi.cache.fibonacci import MAX_N, cached_fibonacci
from myapi.cache.spans import trace_redis
from myapi.core.registry import Command, Feature, Metric, Resources

if TYPE_CHECKING:
    from myapi.core.config import Settings


logger = logging.getLogger(__name__)


@asynccontextmanager
async def open_cache(settings: Settings, resources: Resources) -> AsyncIterator[None]:
    redis = create_redis(settings)
    trace_redis(redis)
    cache = RedisCache(
        redis,
        f"{settings.app_name}:",
        settings.cache_ttl_seconds,
        timeout=settings.redis_timeout,
        retry_seconds=settings.cache_retry_seconds,
    )
    resources.provide(RedisCache, cache)
    resources.cache = cache
    resources.probes["cache"] = cache.ping
    resources.optional.add("cache")
    resources.metrics.extend(metrics(cache))
    retrying = asyncio.create_task(cache.keep_retrying())
    try:
        yield
    finally:
        retrying.cancel()
        with suppress(asyncio.CancelledError):
            await retrying
        await cache.retry_pending()  # a last attempt before the process lets go of them
        if cache.pending:
            fields = {"pending": cache.pending}
            logger.warning("cache invalidations lost at exit", extra={"fields": fields})
        await redis.aclose()


def metrics(cache: RedisCache) -> list[Metric]:
    return [
        Metric("cache_hits", "Cache reads answered by Redis.", "counter", lambda: cache.hits),
        Metric("cache_misses", "Cache reads sent to the source.", "counter", lambda: cache.misses),
        Metric("cache_errors", "Redis commands that failed.", "counter", lambda: cache.errors),
        Metric(
            "cache_invalidations_failed",
            "Invalidations that failed at first (retried until Redis answers).",
            "counter",
            lambda: cache.invalidations_failed,
        ),
        Metric(
            "cache_invalidations_pending",
            "Invalidations waiting for Redis to answer.",
            "gauge",
            lambda: cache.pending,
        ),
    ]


def _fibonacci_n(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_N:
        raise argparse.ArgumentTypeError(f"N must be a whole number from 0 to {MAX_N}")
    return int(text)


def configure_fibonacci(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("n", type=_fibonacci_n)


async def fibonacci(args: argparse.Namespace, settings: Settings, resources: Resources) -> int:
    print(await cached_fibonacci(resources.cache, args.n))
    return 0


FEATURE = Feature(
    name="cache",
    open=open_cache,
    commands=(
        Command(
            "fibonacci", "print fibonacci(N), cached in Redis", configure_fibonacci, run=fibonacci
        ),
    ),
    web=True,
)
