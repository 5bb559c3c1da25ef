"""The jobs the worker runs, and the periodic ones.

A job is `async def name(ctx: JobContext, **kwargs)`: its arguments and its result are JSON, and
`ctx` holds the job itself, the settings and every feature's resources (the database, the cache,
...). Add a job to `FUNCTIONS`, and a periodic one to `cron_jobs` (SAQ runs the schedule inside
the worker: no separate scheduler process).

Jobs run at least once: a job whose worker dies mid-way runs again, so each one must be
idempotent under redelivery. `example` shows how: its effect (adding to a running total) and the
record of its result, under the job's key, are written together, once; a later run of the same
key returns the recorded result and changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from saq import CronJob
from saq.types import Context

from myapi.core.registry import Resources
from myapi.tasks.queue import Tasks

if TYPE_CHECKING:
    from myapi.core.config import Settings

RECORD_TTL = 7 * 24 * 3600
"""Seconds an example result stays recorded: longer than any redelivery can come."""


class JobContext(Context, total=False):
    """What every job gets: SAQ's `worker` and `job`, and the process's settings and resources."""

    settings: Settings
    resources: Resources
    tasks: Tasks


async def example(
    ctx: JobContext, *, text: str, seconds: float = 0.0, fail_attempts: int = 0
) -> dict[str, Any]:
    """Count the words of `text` and add them to a running total, once per job key.

    `seconds` of work (a sleep) and failing the first `fail_attempts` attempts stand in for real
    work and a flaky dependency, to watch timeouts, redelivery and retries.
    """
    job, redis = ctx["job"], ctx["tasks"].redis
    record = ctx["tasks"].queue.namespace(f"example:{job.key}")
    recorded = await redis.get(record)
    if recorded is not None:  # a redelivered or repeated run: the effect has happened
        return dict(json.loads(recorded))
    if job.attempts <= fail_attempts:
        raise RuntimeError(f"attempt {job.attempts} of {job.key} fails on purpose")
    await asyncio.sleep(seconds)
    result = {"text": text, "words": len(text.split()), "attempt": job.attempts}
    if await record_once(redis, record, result, ctx["tasks"].queue.namespace("example:words")):
        return result
    return dict(json.loads(await redis.get(record) or "{}"))  # another run recorded it first


# The effect and its record together, only while the record does not exist (atomic in Redis).
RECORD_ONCE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
    redis.call('INCRBY', KEYS[2], ARGV[3])
    return 1
end
return 0
"""


async def record_once(redis: Redis, record: str, result: dict[str, Any], total: str) -> bool:
    """Writes the result under `record` and adds its words to `total`, in one step, unless
    `record` exists; False when another run of the same key wrote it first."""
    script = redis.register_script(RECORD_ONCE)
    arguments = [json.dumps(result), RECORD_TTL, result["words"]]
    return bool(await script(keys=[record, total], args=arguments))


async def heartbeat(ctx: JobContext) -> float:
    """Periodic (`TASKS_HEARTBEAT_CRON`): records when the schedule last fired."""
    now = time.time()
    await ctx["tasks"].redis.set(ctx["tasks"].queue.namespace("heartbeat"), str(now))
    return now


FUNCTIONS = (example, heartbeat)
"""Every job the worker runs, by function name (`Tasks.enqueue("example", {...})`)."""


def cron_jobs(settings: Settings) -> list[CronJob[JobContext]]:
    """The periodic jobs; each runs once per tick however many workers there are."""
    # One attempt: the next tick replaces a failed one.
    return [
        CronJob(
            heartbeat,
            cron=settings.tasks_heartbeat_cron,
            timeout=settings.tasks_job_timeout,
            retries=1,
            ttl=settings.tasks_result_ttl,
        )
    ]
