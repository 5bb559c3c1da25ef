"""The cache feature in the registry: a Redis client for the process's lifetime, serving as the
cache every feature reads through, the `cache` readiness probe, and the `fibonacci` command."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING

from myapi.cache.client import RedisCache, create_redis, ping
from myapi.cache.fibonacci import MAX_N, cached_fibonacci
from myapi.core.registry import Command, Feature, Resources

if TYPE_CHECKING:
    from myapi.core.config import Settings


@asynccontextmanager
async def open_cache(settings: Settings, resources: Resources) -> AsyncIterator[None]:
    redis = create_redis(settings)
    try:
        cache = RedisCache(redis, f"{settings.app_name}:", settings.cache_ttl_seconds)
        resources.provide(RedisCache, cache)
        resources.cache = cache
        resources.probes["cache"] = partial(ping, redis)
        yield
    finally:
        await redis.aclose()


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
