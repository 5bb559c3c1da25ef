"""Request dependencies: what the lifespan opened, handed to the endpoints.

They are `async def` on purpose: FastAPI runs plain `def` dependencies in a thread pool, which
costs a thread hand-off on every request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from myapp.core.health import Readiness
from myapp.core.registry import Resources


async def get_readiness(request: Request) -> Readiness:
    readiness: Readiness = request.app.state.readiness
    return readiness


async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ReadinessDep = Annotated[Readiness, Depends(get_readiness)]
ResourcesDep = Annotated[Resources, Depends(get_resources)]
