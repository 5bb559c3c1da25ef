"""Redis through redis.asyncio: the client, and a small cache-aside helper on top of it."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

from myapi.cache.settings import Settings as CacheSettings


def create_redis(settings: CacheSettings) -> Redis:
    # A blocking pool makes commands beyond max_connections wait for a free connection
    # (up to the timeout) rather than fail, which matters under bursts of requests.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_timeout,
        socket_timeout=settings.redis_timeout,
        socket_connect_timeout=settings.redis_timeout,
    )
    return Redis.from_pool(pool)


async def ping(redis: Redis) -> None:
    # Through a pipeline: typed alike by every redis-py the project may lock (the tasks feature
    # holds it below 8).
    async with redis.pipeline(transaction=False) as pipe:
        pipe.ping()
        await pipe.execute()


class RedisCache:
    """Values under `prefix` with a TTL. `hits` and `misses` count reads since start."""

    def __init__(self, redis: Redis, prefix: str, ttl: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.hits = 0
        self.misses = 0

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def get(self, name: str) -> bytes | None:
        value = await self.redis.get(self.key(name))
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        return value if isinstance(value, bytes) else value.encode()

    async def set(self, name: str, value: str | bytes) -> None:
        await self.redis.set(self.key(name), value, ex=self.ttl)

    async def delete(self, *names: str) -> None:
        await self.redis.delete(*(self.key(name) for name in names))
