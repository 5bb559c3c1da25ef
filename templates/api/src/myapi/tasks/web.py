"""Jobs over HTTP: enqueue the example job, read any job's status and result by id, list the
dead letters. With the monitoring feature, the queue's numbers join /metrics."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field
from saq import Job

from myapi.api.problems import documented
from myapi.core.config import Settings
from myapi.core.registry import Resources
from myapi.tasks.metrics import install_metrics
from myapi.tasks.queue import Tasks

router = APIRouter(prefix="/tasks", tags=["tasks"])
# Job ids are SAQ job keys: the idempotency key a client gave, else a UUID. Short and plain, as
# they become Redis keys.
KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
JobId = Annotated[str, Path(pattern=KEY_PATTERN)]


def install(app: FastAPI, settings: Settings, shutdown: AsyncExitStack) -> None:
    app.include_router(router)
    install_metrics(app)


async def get_tasks(request: Request) -> Tasks:
    resources: Resources = request.app.state.resources
    return resources.get(Tasks)


TasksDep = Annotated[Tasks, Depends(get_tasks)]


class ExampleRequest(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)
    key: str | None = Field(None, pattern=KEY_PATTERN)
    """Idempotency key: while a job with this key is queued or running, the same job is
    returned; a later run of the key returns the recorded result without repeating its effect."""


class JobQueued(BaseModel):
    id: str
    status: str


class JobRead(BaseModel):
    id: str
    function: str
    status: str
    """queued, active, complete, failed or aborted (SAQ's statuses)."""
    attempts: int
    result: Any = None
    error: str | None = None
    """The last line of the error of the latest failed attempt."""
    queued: datetime | None = None
    started: datetime | None = None
    completed: datetime | None = None


def timestamp(millis: int) -> datetime | None:
    return datetime.fromtimestamp(millis / 1000, UTC) if millis else None


def last_line(error: str | None) -> str | None:
    """The exception line of a traceback: the rest stays in the worker's log."""
    lines = [line for line in (error or "").splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


def read(job: Job) -> JobRead:
    return JobRead(
        id=job.key,
        function=job.function,
        status=job.status.value,
        attempts=job.attempts,
        result=job.result,
        error=last_line(job.error),
        queued=timestamp(job.queued),
        started=timestamp(job.started),
        completed=timestamp(job.completed),
    )


@router.post("/example", status_code=status.HTTP_202_ACCEPTED)
async def enqueue_example(data: ExampleRequest, tasks: TasksDep) -> JobQueued:
    job = await tasks.enqueue("example", {"text": data.text}, key=data.key)
    return JobQueued(id=job.key, status=job.status.value)


@router.get("/dead-letters")
async def dead_letters(
    tasks: TasksDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Jobs that failed for good (attempts exhausted, or their worker died on the last one),
    newest first."""
    return await tasks.dead_letters(limit)


@router.get("/jobs/{job_id}", responses=documented(404))
async def get_job(job_id: JobId, tasks: TasksDep) -> JobRead:
    job = await tasks.job(job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "job not found (or its result expired)")
    return read(job)
