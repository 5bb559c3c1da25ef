"""The worker process: SAQ's worker on the queue, with the settings' concurrency, sweep and
grace period; `python -m myapi worker`.

SIGTERM or SIGINT stops it: it takes no new job, gives running ones the grace period
(`TASKS_SHUTDOWN_GRACE_SECONDS`), then cancels the rest, which are queued again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from saq import Worker

from myapi.core.registry import Resources
from myapi.tasks.jobs import FUNCTIONS, JobContext, cron_jobs
from myapi.tasks.queue import Tasks

if TYPE_CHECKING:
    from myapi.core.config import Settings

DEQUEUE_TIMEOUT = 1.0
"""Seconds an idle slot waits on Redis for a job before it checks whether to stop."""


def create_worker(
    settings: Settings, resources: Resources, concurrency: int | None = None
) -> Worker[JobContext]:
    tasks = resources.get(Tasks)

    async def startup(ctx: JobContext) -> None:
        ctx["settings"] = settings
        ctx["resources"] = resources
        ctx["tasks"] = tasks

    return Worker(
        tasks.queue,
        functions=FUNCTIONS,
        cron_jobs=cron_jobs(settings),
        concurrency=concurrency or settings.tasks_concurrency,
        startup=startup,
        # Every upkeep loop wakes each second, so a stop takes about a second when idle; the
        # sweep requeues jobs whose worker died (stuck past their timeout).
        timers={"schedule": 1, "abort": 1, "worker_info": 1, "sweep": settings.tasks_sweep_seconds},
        dequeue_timeout=DEQUEUE_TIMEOUT,
        shutdown_grace_period_s=settings.tasks_shutdown_grace_seconds,
    )


async def run(settings: Settings, resources: Resources, concurrency: int | None = None) -> int:
    """Run until SIGTERM or SIGINT."""
    if not logging.getLogger().handlers:  # no logging set up (the monitoring feature's JSON)
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
    await create_worker(settings, resources, concurrency).start()
    return 0
