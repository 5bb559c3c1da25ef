"""Redis through redis.asyncio: the client, and the cache every feature reads through.

Redis is a soft dependency: the service works without it, only slower. Every command has
`redis_timeout` seconds; when one fails, the cache counts as unavailable for
`cache_retry_seconds` (no command is tried meanwhile, so an outage costs no waiting) and:

- reads are misses, answered from the source (the database);
- fills are skipped;
- invalidations are remembered and retried in the background until Redis answers; until then
  this process never reads those entries from Redis, and once Redis answers (even restarted
  from a snapshot holding old entries) they are gone. Another process may still read an old
  entry between Redis coming back and the retry (at most `cache_retry_seconds`), or until its
  TTL if this process stops before Redis answers again.

An invalidation does not delete the entry: it replaces it for a moment with a marker that reads
as a miss and that fills (`SET NX`) cannot overwrite. So a value read from the database just
before a write commits cannot be cached just after the write's invalidation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from typing import TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from myapi.cache.settings import Settings as CacheSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")

INVALIDATED = b"\x00invalidated"
"""What an invalidation leaves in place of an entry for `HOLD_MS`: a miss fills cannot replace."""
HOLD_MS = 2000
"""How long that marker stays: far longer than a read takes from the database to the cache."""
MAX_PENDING = 10_000
"""Invalidations remembered one by one; past this many, every entry is dropped instead."""
FAILURES = (RedisError, OSError, TimeoutError)


class CacheUnavailable(Exception):
    """Redis did not answer in time, or is skipped for a moment because it did not."""


def create_redis(settings: CacheSettings) -> Redis:
    # A blocking pool makes commands beyond max_connections wait for a free connection
    # (up to the timeout) rather than fail, which matters under bursts of requests.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url.get_secret_value(),
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_timeout,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
    )
    return Redis.from_pool(pool)


class RedisCache:
    """Values under `prefix` with a TTL. Counts since start: `hits`, `misses`, `errors` (commands
    that failed), `invalidations_failed`; `pending` is the invalidations still to apply."""

    def __init__(
        self, redis: Redis, prefix: str, ttl: int, *, timeout: float, retry_seconds: float
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.hits = 0
        self.misses = 0
        self.errors = 0
        self.invalidations_failed = 0
        self._pending: set[str] = set()
        self._drop_all = False  # too many pending: drop every entry once Redis answers
        self._skip_until = 0.0
        self._down = False

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    @property
    def pending(self) -> int:
        return MAX_PENDING if self._drop_all else len(self._pending)

    async def get(self, name: str) -> bytes | None:
        key = self.key(name)
        value = None
        if not self._held(key):
            with suppress(CacheUnavailable):
                value = await self._call(lambda: self.redis.get(key))
        if value is None or value == INVALIDATED:
            self.misses += 1
            return None
        self.hits += 1
        return value if isinstance(value, bytes) else str(value).encode()

    async def set(self, name: str, value: str | bytes) -> None:
        key = self.key(name)
        if self._held(key):
            return
        with suppress(CacheUnavailable):
            await self._call(lambda: self.redis.set(key, value, ex=self.ttl, nx=True))

    async def delete(self, *names: str) -> None:
        keys = [self.key(name) for name in names]
        if not keys:
            return
        try:
            await self._call(lambda: self._invalidate(keys))
        except CacheUnavailable:
            self._defer(keys)

    async def ping(self) -> None:
        """The readiness probe: Redis answers now (and is tried again at once if it does)."""
        await self._call(self._ping, probe=True)

    async def _ping(self) -> None:
        # Through a pipeline: typed alike by every redis-py the project may lock (the tasks
        # feature holds it below 8, where `ping` is typed as maybe not awaitable).
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.ping()
            await pipe.execute()

    async def retry_pending(self) -> None:
        """Apply the invalidations that failed, if Redis answers now."""
        if self._drop_all:
            with suppress(CacheUnavailable):
                await self._call(self._drop_everything, probe=True)
                self._drop_all = False
                logger.info("cache emptied after lost invalidations")
            return
        keys = list(self._pending)
        if keys:
            with suppress(CacheUnavailable):
                await self._call(lambda: self._invalidate(keys), probe=True)
                self._pending.difference_update(keys)
                fields = {"keys": len(keys)}
                logger.info("cache invalidations applied", extra={"fields": fields})

    async def keep_retrying(self) -> None:
        """Retry failed invalidations every `retry_seconds`, for as long as it runs."""
        while True:
            await asyncio.sleep(self.retry_seconds)
            if self.pending:
                await self.retry_pending()

    def _held(self, key: str) -> bool:
        """An invalidation of `key` is pending: Redis may still hold the old value."""
        return self._drop_all or key in self._pending

    async def _invalidate(self, keys: Iterable[str]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.set(key, INVALIDATED, px=HOLD_MS)
            await pipe.execute()

    async def _drop_everything(self) -> None:
        async for key in self.redis.scan_iter(match=f"{self.prefix}*", count=1000):
            await self.redis.unlink(key)

    def _defer(self, keys: list[str]) -> None:
        self.invalidations_failed += len(keys)
        if self._drop_all or len(self._pending) + len(keys) > MAX_PENDING:
            self._drop_all = True
            self._pending.clear()
        else:
            self._pending.update(keys)
        fields = {"keys": len(keys), "pending": self.pending}
        logger.warning("cache invalidation failed, will retry", extra={"fields": fields})

    async def _call(self, command: Callable[[], Awaitable[T]], *, probe: bool = False) -> T:
        """Run one command within the timeout; any failure is `CacheUnavailable`. `probe`
        tries even while Redis is being skipped."""
        if not probe and time.monotonic() < self._skip_until:
            raise CacheUnavailable
        try:
            async with asyncio.timeout(self.timeout):
                result = await command()
        except FAILURES as err:
            self.errors += 1
            self._skip_until = time.monotonic() + self.retry_seconds
            reason = f"{type(err).__name__}: {err}".rstrip(": ")
            if not self._down:  # said once per outage
                self._down = True
                logger.warning("cache unavailable, reading from the source: %s", reason)
            raise CacheUnavailable(reason) from err
        self._skip_until = 0.0
        if self._down:
            self._down = False
            logger.info("cache available again")
        return result
