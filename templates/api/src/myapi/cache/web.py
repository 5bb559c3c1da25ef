"""A cached computation: GET reads through the cache, DELETE drops the cached value."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Response, status
from pydantic import BaseModel

from myapi.api.deps import ResourcesDep
from myapi.cache.fibonacci import MAX_N, cached_fibonacci, forget
from myapi.core.config import Settings

router = APIRouter(prefix="/fibonacci", tags=["examples"])
N = Annotated[int, Path(ge=0, le=MAX_N)]


def install(app: FastAPI, settings: Settings, shutdown: AsyncExitStack) -> None:
    app.include_router(router)


class FibonacciNumber(BaseModel):
    n: int
    value: str
    """Decimal digits (the numbers outgrow JSON's safe integers)."""


@router.get("/{n}")
async def get_fibonacci(n: N, resources: ResourcesDep) -> FibonacciNumber:
    value = await cached_fibonacci(resources.cache, n)
    return FibonacciNumber(n=n, value=str(value))


@router.delete("/{n}", status_code=status.HTTP_204_NO_CONTENT)
async def forget_fibonacci(n: N, resources: ResourcesDep) -> Response:
    await forget(resources.cache, n)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
