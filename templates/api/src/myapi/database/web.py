"""The items API (CRUD), and the database's failures as problems: 503 + Retry-After when it is
unavailable (no connection free in time, not answering, a statement past its timeout), 409 or
422 when a write breaks a constraint."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    status,
)
from sqlalchemy.exc import DataError, IntegrityError

from myapi.api.problems import documented, problem_response
from myapi.core.config import Settings
from myapi.core.registry import Resources
from myapi.database.engine import DatabaseUnavailable
from myapi.database.items.schemas import ItemCreate, ItemRead, ItemUpdate
from myapi.database.items.service import ItemService

MAX_ID = 2**31 - 1  # items.id is a Postgres integer
INVALID_STATES = frozenset({"23502", "23514"})  # not null, check: the input was wrong

router = APIRouter(prefix="/items", tags=["items"], responses=documented(503))


def install(app: FastAPI, settings: Settings, shutdown: AsyncExitStack) -> None:
    app.add_exception_handler(DatabaseUnavailable, database_unavailable)
    app.add_exception_handler(IntegrityError, constraint_violated)
    app.add_exception_handler(DataError, constraint_violated)
    app.include_router(router)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database cannot serve now: ask the client to retry."""
    return problem_response(503, str(exc), instance=request.url.path, headers={"Retry-After": "1"})


async def constraint_violated(request: Request, exc: Exception) -> Response:
    """409 when the write conflicts with stored data (unique, foreign key), 422 when the input
    itself was invalid (null, check, a value out of range). A route writing to a table with
    unique or foreign keys documents its 409 (`documented(409)`)."""
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    path = request.url.path
    if isinstance(exc, DataError) or state in INVALID_STATES:
        return problem_response(422, "the data breaks a rule of the database", instance=path)
    return problem_response(409, "the data conflicts with stored data", instance=path)


async def get_items(request: Request) -> ItemService:
    resources: Resources = request.app.state.resources
    return resources.get(ItemService)


Items = Annotated[ItemService, Depends(get_items)]
ItemId = Annotated[int, Path(ge=1, le=MAX_ID)]
NOT_FOUND = "item not found"


@router.get("")
async def list_items(
    items: Items,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[ItemRead]:
    return await items.list_page(limit=limit, offset=offset)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_item(data: ItemCreate, items: Items) -> ItemRead:
    return await items.create(data)


@router.get("/{item_id}", responses=documented(404))
async def get_item(item_id: ItemId, items: Items) -> ItemRead:
    item = await items.get(item_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return item


@router.patch("/{item_id}", responses=documented(404))
async def update_item(item_id: ItemId, data: ItemUpdate, items: Items) -> ItemRead:
    item = await items.update(item_id, data)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return item


@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, responses=documented(404))
async def delete_item(item_id: ItemId, items: Items) -> Response:
    if not await items.delete(item_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
