"""An example of caching an expensive, pure result: Fibonacci numbers, kept in Redis."""

from __future__ import annotations

from myapi.core.cache import Cache

MAX_N = 10_000


def fibonacci(n: int) -> int:
    if not 0 <= n <= MAX_N:
        raise ValueError(f"n must be between 0 and {MAX_N}")
    current, following = 0, 1
    for _ in range(n):
        current, following = following, current + following
    return current


async def cached_fibonacci(cache: Cache, n: int) -> int:
    """fibonacci(n), computed once and then read from the cache until its entry expires."""
    key = f"fibonacci:{n}"
    cached = await cache.get(key)
    if cached is not None:
        return int(cached)
    value = fibonacci(n)
    await cache.set(key, str(value))
    return value


async def forget(cache: Cache, n: int) -> None:
    await cache.delete(f"fibonacci:{n}")
