"""The queue without a worker: jobs carry the settings' retry, timeout and TTL, the readiness
probe answers, and the counts the metrics read start empty."""

from __future__ import annotations

import pytest
import redis.exceptions
from pydantic import SecretStr
from saq import Status

from myapi.core.config import Settings
from myapi.core.resources import open_resources
from myapi.tasks.queue import LATENCY_BUCKETS, Tasks, bucket


async def test_jobs_carry_the_settings(tasks: Tasks, settings: Settings) -> None:
    job = await tasks.enqueue("example", {"text": "x"})
    stored = await tasks.job(job.key)
    assert stored is not None
    assert stored.status is Status.QUEUED
    assert stored.kwargs == {"text": "x"}
    assert (stored.retries, stored.timeout, stored.ttl) == (
        settings.tasks_max_attempts,
        settings.tasks_job_timeout,
        settings.tasks_result_ttl,
    )
    assert (stored.retry_delay, stored.retry_backoff) == (
        settings.tasks_retry_delay,
        settings.tasks_retry_max_delay,
    )
    longer = await tasks.enqueue("example", {"text": "y"}, timeout=60)
    assert longer.timeout == 60
    assert await tasks.job("no-such-job") is None


async def test_stats_start_empty(tasks: Tasks) -> None:
    stats = await tasks.stats()
    assert (stats.queued, stats.active, stats.scheduled, stats.workers) == (0, 0, 0, 0)
    assert (stats.dead_letters, stats.finished, stats.latency_buckets) == (0, {}, {})


async def test_the_probe_fails_when_redis_does_not_answer(
    settings: Settings, closed_port: int
) -> None:
    url = SecretStr(f"redis://127.0.0.1:{closed_port}/0")
    down = settings.model_copy(update={"redis_url": url})
    async with open_resources(down) as resources:
        with pytest.raises(redis.exceptions.ConnectionError):
            await resources.probes["tasks"]()


def test_latency_buckets() -> None:
    assert bucket(0.0) == 0
    assert bucket(LATENCY_BUCKETS[-1]) == len(LATENCY_BUCKETS) - 1
    assert bucket(LATENCY_BUCKETS[-1] + 1) == len(LATENCY_BUCKETS)
