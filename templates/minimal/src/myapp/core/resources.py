"""What the process holds for its lifetime: each feature's resources, opened once, closed at
exit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from myapp.core.config import Settings
from myapp.core.registry import Resources
from myapp.features import FEATURES


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[Resources]:
    """Open every feature's resources (closed in reverse order, also on error)."""
    resources = Resources()
    async with AsyncExitStack() as stack:
        for feature in FEATURES:
            if feature.open is not None:
                await stack.enter_async_context(feature.open(settings, resources))
        yield resources
