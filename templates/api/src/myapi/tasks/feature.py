"""The tasks feature in the registry: the job queue for the process's lifetime (`Tasks`, and
SAQ's queue as `TaskQueue`), the `tasks` readiness probe, and the `worker` command."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING

from myapi.core.registry import Command, Feature, Resources
from myapi.tasks import worker
from myapi.tasks.queue import TaskQueue, Tasks, create_redis, ping
from myapi.tasks.spans import trace_redis

if TYPE_CHECKING:
    from myapi.core.config import Settings


@asynccontextmanager
async def open_tasks(settings: Settings, resources: Resources) -> AsyncIterator[None]:
    redis = create_redis(settings)
    trace_redis(redis)
    queue = TaskQueue(redis, settings)
    try:
        await queue.connect()
        resources.provide(TaskQueue, queue)
        resources.provide(Tasks, Tasks(queue, settings))
        resources.probes["tasks"] = partial(ping, queue.redis)
        yield
    finally:
        await queue.disconnect()


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError("N must be a whole number from 1")
    return int(text)


def configure_worker(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--concurrency", type=_positive, metavar="N", help="default: TASKS_CONCURRENCY or 10"
    )


async def run_worker(args: argparse.Namespace, settings: Settings, resources: Resources) -> int:
    return await worker.run(settings, resources, args.concurrency)


FEATURE = Feature(
    name="tasks",
    open=open_tasks,
    commands=(
        Command(
            "worker",
            "run the background job worker (until SIGTERM or SIGINT)",
            configure_worker,
            run=run_worker,
        ),
    ),
    web=True,
    # Its web part adds the queue's numbers to the monitoring feature's /metrics registry.
    uses=("monitoring",),
)
