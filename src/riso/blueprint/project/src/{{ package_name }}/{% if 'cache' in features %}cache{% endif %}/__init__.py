"""The cache feature: Redis through redis.asyncio, the cache every feature reads through
(`core/cache.py`), and a cached computation as an example (`fibonacci.py`)."""
