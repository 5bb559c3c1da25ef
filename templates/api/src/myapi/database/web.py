"""The items API (CRUD), and 503 + Retry-After when no database connection frees up in time."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse

from myapi.core.config import Settings
from myapi.core.registry import Resources
from myapi.database.engine import DatabaseBusy
from myapi.database.items.schemas import ItemCreate, ItemRead, ItemUpdate
from myapi.database.items.service import ItemService

router = APIRouter(prefix="/items", tags=["items"])


def install(app: FastAPI, settings: Settings, shutdown: AsyncExitStack) -> None:
    app.add_exception_handler(DatabaseBusy, database_busy)
    app.include_router(router)


async def database_busy(request: Request, exc: Exception) -> JSONResponse:
    """Every connection stayed busy for the whole pool timeout: ask the client to retry."""
    return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})


async def get_items(request: Request) -> ItemService:
    resources: Resources = request.app.state.resources
    return resources.get(ItemService)


Items = Annotated[ItemService, Depends(get_items)]
NOT_FOUND = "item not found"


@router.get("")
async def list_items(
    items: Items,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ItemRead]:
    return await items.list_page(limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_item(data: ItemCreate, items: Items) -> ItemRead:
    return await items.create(data)


@router.get("/{item_id}")
async def get_item(item_id: int, items: Items) -> ItemRead:
    item = await items.get(item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return item


@router.patch("/{item_id}")
async def update_item(item_id: int, data: ItemUpdate, items: Items) -> ItemRead:
    item = await items.update(item_id, data)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return item


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_item(item_id: int, items: Items) -> Response:
    if not await items.delete(item_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
