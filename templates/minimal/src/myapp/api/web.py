"""Probes: /healthz says the process is alive, /readyz that its dependencies answer (200 when
only optional ones fail: `degraded` names them)."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import APIRouter, FastAPI, Response
from pydantic import BaseModel

from myapp.api.deps import ReadinessDep
from myapp.core.config import Settings

router = APIRouter(tags=["health"])


class Alive(BaseModel):
    status: str = "ok"


class Ready(BaseModel):
    status: str
    """`ready`, `degraded` (an optional dependency fails) or `unavailable`."""
    checks: dict[str, str]
    failing: list[str]
    """Required dependencies that do not answer."""
    degraded: list[str]
    """Optional dependencies that do not answer."""


@router.get("/healthz")
async def healthz() -> Alive:
    return Alive()


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": Ready, "description": "A required dependency does not answer"}},
)
async def readyz(readiness: ReadinessDep) -> Response:
    # The report carries its JSON body, encoded once per probe round.
    report = await readiness.check()
    status = 200 if report.ready else 503
    return Response(report.body, status_code=status, media_type="application/json")


def install(app: FastAPI, settings: Settings, shutdown: AsyncExitStack) -> None:
    app.include_router(router)
