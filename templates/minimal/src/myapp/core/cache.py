"""The cache other features read through: a key-value store with expiry.

The cache feature provides one backed by Redis (`Resources.cache`); without it, `NO_CACHE` keeps
nothing, so code that caches works the same with or without the feature.

A cache is never a reason for a call to fail: every method returns normally whatever happens
to the store behind it.

- `get` returns None on a miss, and also when the store does not answer (read the source then);
- `set` fills an entry after a miss. It never overwrites an entry a `delete` has just replaced,
  so a value read from the source before a write cannot land in the cache after it;
- `delete` invalidates: once it returns, no later `get` in this process returns the old value,
  and the store drops it as soon as it answers again (a failed invalidation is retried).
"""

from __future__ import annotations

from typing import Protocol


class Cache(Protocol):
    async def get(self, name: str) -> bytes | None: ...

    async def set(self, name: str, value: str | bytes) -> None: ...

    async def delete(self, *names: str) -> None: ...


class NoCache:
    """Keeps nothing: every read is a miss."""

    async def get(self, name: str) -> bytes | None:
        return None

    async def set(self, name: str, value: str | bytes) -> None:
        return None

    async def delete(self, *names: str) -> None:
        return None


NO_CACHE: Cache = NoCache()
