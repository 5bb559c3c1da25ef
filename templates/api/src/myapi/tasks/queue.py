"""The job queue: SAQ's Redis queue plus the dead-letter list and the counts the metrics read, and
`Tasks`, what the app and the CLI enqueue and read jobs through.

Every key lives under `saq:<queue>:` (SAQ's own layout): `queued`, `active`, `incomplete`,
`stats`, and the blueprint's `dead_letters` (failed jobs, newest first) and `counts` (finished
jobs by function and status, and an enqueue-to-finish latency histogram).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import Job, Status
from saq.queue.redis import RedisQueue

from myapi.tasks.settings import Settings as TasksSettings

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Upper bounds (seconds) of the enqueue-to-finish histogram; the last bucket is +Inf."""
SWEEP_ABORT_WAIT = 2.0
"""Seconds the sweep waits for the worker of a stuck job to confirm it stopped (SAQ waits 5 s):
a worker that was killed never answers, and a live one answers within its 1 s abort check."""
DEQUEUE_GRACE = 1.0
"""Seconds the sweep leaves a job that is in the active list but not marked active: a worker that
has just taken it marks it right after."""
SWEEP_CLAIM_SECONDS = 30
"""Seconds a sweep's claim on one job lasts: longer than taking it back takes, and how long a
job waits for the next sweep if the worker sweeping it dies meanwhile."""

# The jobs in the active list with their records, in one step (GET gives false when one is gone).
READ_ACTIVE = """
local found = {}
for i, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    found[i] = {id, redis.call('GET', id)}
end
return found
"""

logger = logging.getLogger(__name__)


async def ping(redis: Redis) -> None:
    # Through a pipeline: typed alike by every redis-py the project may lock (SAQ holds it below 8).
    async with redis.pipeline(transaction=False) as pipe:
        pipe.ping()
        await pipe.execute()


def create_redis(settings: TasksSettings) -> Redis:
    # No socket timeout: the worker blocks on Redis to dequeue, and SAQ's result subscription
    # waits for messages; the readiness probe has its own timeout.
    return Redis.from_url(
        settings.redis_url.get_secret_value(), socket_connect_timeout=5, health_check_interval=30
    )


def latency(job: Job) -> float:
    """Seconds from when the job was due (enqueued, or scheduled for later) to when it finished."""
    due = max(job.queued, job.scheduled * 1000)
    return max(job.completed - due, 0) / 1000


def bucket(seconds: float) -> int:
    """Index of the first histogram bucket that holds `seconds` (len(LATENCY_BUCKETS): +Inf)."""
    inside = (i for i, bound in enumerate(LATENCY_BUCKETS) if seconds <= bound)
    return next(inside, len(LATENCY_BUCKETS))


class TaskQueue(RedisQueue):
    """SAQ's Redis queue. When a job finishes it also counts it (by function and status) and, when
    it failed for good (attempts exhausted, or its worker died on the last attempt), copies it to
    the dead-letter list."""

    def __init__(self, redis: Redis, settings: TasksSettings) -> None:
        super().__init__(redis, name=settings.tasks_queue)
        self.dead_letters_key = self.namespace("dead_letters")
        self.counts_key = self.namespace("counts")
        self.dead_letter_max = settings.tasks_dead_letter_max
        self._read_active = redis.register_script(READ_ACTIVE)

    async def disconnect(self) -> None:
        try:
            await super().disconnect()
        except (RedisError, OSError):
            # SAQ ends its result subscription even when it never began one, which needs Redis;
            # when Redis is gone that fails before the client is closed.
            await self.redis.aclose()

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """Queues again (or, on their last attempt, aborts) the jobs whose worker died: those in
        the active list that are not running, or that run past their timeout. One sweep starts
        every `lock` seconds, by whichever worker.

        SAQ's sweep, with three changes. A job in the active list but not marked active yet is
        swept only if its record is still the same `DEQUEUE_GRACE` later: a live worker that has
        just taken it marks it meanwhile (SAQ 0.26 sweeps it at once and it runs twice,
        tobymao/saq#277, which a sweep every second would make frequent). Sweeps may overlap (they
        outlast a short `lock`), so each job is claimed before it is taken back, and only while its
        record is unchanged. And it waits `SWEEP_ABORT_WAIT`, not `abort`, for the workers of
        stuck jobs to confirm they stopped, for all at once.
        """
        if not await self.redis.set(self.namespace("sweep"), 1, nx=True, ex=lock):
            return []  # another worker swept less than `lock` seconds ago
        found = await self._active_records()
        suspects = {k: v for k, v in found.items() if self._not_running(v, stuck_too=True)}
        if any(self._not_running(record) for record in suspects.values()):
            await asyncio.sleep(DEQUEUE_GRACE)
            now = await self._active_records()
            suspects = {k: v for k, v in suspects.items() if k in now and now[k] == v}
        wait = min(abort, SWEEP_ABORT_WAIT)
        taken = await asyncio.gather(*(self._take_back(k, v, wait) for k, v in suspects.items()))
        return [job_id for job_id, took in zip(suspects, taken, strict=True) if took]

    async def _take_back(self, job_id: str, record: bytes | None, wait: float) -> bool:
        """Stops a swept job where it may still run, then queues it again or, on its last attempt,
        aborts it (and so dead-letters it). False when another sweep has it, or it has changed."""
        claim = self.namespace(f"sweeping:{job_id}")
        if not await self.redis.set(claim, 1, nx=True, ex=SWEEP_CLAIM_SECONDS):
            return False
        try:
            if await self.redis.get(job_id) != record:  # taken back or moved on meanwhile
                return False
            job = self.deserialize(record)
            if job is None:  # its record is gone: drop the id
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.lrem(self.namespace("active"), 0, job_id)
                    pipe.zrem(self.namespace("incomplete"), job_id)
                    await pipe.execute()
                return True
            logger.info("sweeping %s (its worker stopped)", job.info())
            await self.abort(job, error=self.swept_error_message)
            with suppress(TimeoutError):  # a worker that died never confirms
                await job.refresh(wait)
            if job.retryable:
                await self.retry(job, error=self.swept_error_message)
            else:
                await self.finish(job, Status.ABORTED, error=self.swept_error_message)
            return True
        finally:
            await self.redis.delete(claim)

    async def _active_records(self) -> dict[str, bytes | None]:
        """Each job id in the active list with its record (None: gone), read in one step."""
        pairs = await self._read_active(keys=[self.namespace("active")])
        return {job_id.decode(): record for job_id, record in pairs}

    def _not_running(self, record: bytes | None, stuck_too: bool = False) -> bool:
        """The job's record is gone or does not say it runs (or, `stuck_too`, it runs past its
        timeout)."""
        job = self.deserialize(record)
        return job is None or job.status is not Status.ACTIVE or (stuck_too and job.stuck)

    async def retry(self, job: Job, error: str | None) -> None:
        await super().retry(job, error)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(self.counts_key, f"retried:{job.function}", 1)
            await pipe.execute()

    async def finish(
        self,
        job: Job,
        status: Status,
        *,
        result: Any = None,
        error: str | None = None,
        **kwargs: Any,
    ) -> None:
        await super().finish(job, status, result=result, error=error, **kwargs)
        swept = status is Status.ABORTED and error == self.swept_error_message
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(self.counts_key, f"{status.value}:{job.function}", 1)
            if status is Status.COMPLETE:
                seconds = latency(job)
                pipe.hincrby(self.counts_key, f"latency:{job.function}:{bucket(seconds)}", 1)
                pipe.hincrbyfloat(self.counts_key, f"latency_sum:{job.function}", seconds)
            if status is Status.FAILED or swept:
                pipe.lpush(self.dead_letters_key, json.dumps(dead_letter(job)))
                pipe.ltrim(self.dead_letters_key, 0, self.dead_letter_max - 1)
            await pipe.execute()


def dead_letter(job: Job) -> dict[str, Any]:
    """What the dead-letter list keeps of a failed job: enough to look into it and enqueue it
    again."""
    return {
        "id": job.key,
        "function": job.function,
        "kwargs": job.kwargs or {},
        "status": job.status.value,
        "attempts": job.attempts,
        "error": job.error,
        "queued": job.queued,
        "completed": job.completed,
    }


@dataclass(frozen=True)
class QueueStats:
    """The queue at one moment: jobs waiting, running and scheduled, live workers, dead letters,
    and what has finished since the counts began (by function)."""

    queued: int
    active: int
    scheduled: int
    workers: int
    dead_letters: int
    finished: dict[tuple[str, str], int] = field(default_factory=dict)
    """(function, status) -> jobs; status is complete, failed, aborted or retried."""
    latency_buckets: dict[str, list[int]] = field(default_factory=dict)
    """function -> completed jobs per bucket of LATENCY_BUCKETS (+Inf last), not cumulative."""
    latency_sum: dict[str, float] = field(default_factory=dict)


class Tasks:
    """Enqueue jobs with the settings' timeout, attempts, backoff and result TTL; read them back."""

    def __init__(self, queue: TaskQueue, settings: TasksSettings) -> None:
        self.queue = queue
        self.redis = queue.redis
        self.defaults: dict[str, Any] = {
            "timeout": settings.tasks_job_timeout,
            "retries": settings.tasks_max_attempts,
            "retry_delay": settings.tasks_retry_delay,
            # exponential backoff (with jitter), capped at this many seconds
            "retry_backoff": settings.tasks_retry_max_delay,
            "ttl": settings.tasks_result_ttl,
        }

    async def enqueue(
        self,
        function: str,
        kwargs: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
        **options: Any,
    ) -> Job:
        """Queue `function(**kwargs)`; `options` are SAQ job fields over the defaults
        (`timeout=60`).

        With `key` (an idempotency key, SAQ's dedup key), while a job with that key is queued or
        running the same job is returned instead of a second one. The job's id is its key.
        """
        job = Job(function, kwargs=dict(kwargs or {}), **{**self.defaults, **options})
        if key is not None:
            job.key = key
        queued = await self.queue.enqueue(job)
        if queued is not None:
            return queued
        existing = await self.queue.job(job.key)
        if existing is None:  # aborted a moment ago: SAQ refuses its key for a few seconds
            raise LookupError(f"job {job.key} was just aborted; enqueue it again shortly")
        return existing

    async def job(self, job_id: str) -> Job | None:
        """The job (status, attempts, result, error), or None once its result TTL has passed."""
        return await self.queue.job(job_id)

    async def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """Jobs that failed for good, newest first."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.lrange(self.queue.dead_letters_key, 0, limit - 1)
            [entries] = await pipe.execute()
        return [json.loads(entry) for entry in entries]

    async def stats(self) -> QueueStats:
        """Every number of `QueueStats` in one round trip."""
        names = self.queue.namespace
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.llen(names("queued"))
            pipe.llen(names("active"))
            pipe.zcard(names("incomplete"))
            pipe.zcount(names("stats"), int(time.time() * 1000), "+inf")
            pipe.llen(self.queue.dead_letters_key)
            pipe.hgetall(self.queue.counts_key)
            queued, active, incomplete, workers, dead, counts = await pipe.execute()
        stats = QueueStats(
            queued=queued,
            active=active,
            scheduled=max(incomplete - queued - active, 0),
            workers=workers,
            dead_letters=dead,
        )
        for raw_name, raw_value in counts.items():
            kind, _, rest = raw_name.decode().partition(":")
            if kind == "latency":
                function, _, index = rest.rpartition(":")
                empty = [0] * (len(LATENCY_BUCKETS) + 1)
                stats.latency_buckets.setdefault(function, empty)[int(index)] = int(raw_value)
            elif kind == "latency_sum":
                stats.latency_sum[rest] = float(raw_value)
            else:
                stats.finished[(rest, kind)] = int(raw_value)
        return stats
