"""The cache other features read through: a key-value store with expiry.

The cache feature provides one backed by Redis (`Resources.provide(Cache, ...)`); without it,
`NO_CACHE` keeps nothing, so code that caches works the same with or without the feature.
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
