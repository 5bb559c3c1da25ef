"""The queue's numbers on the app's /metrics: jobs queued, running and scheduled, live workers,
dead letters, finished jobs by function and status, and the enqueue-to-finish latency of
completed jobs.

The workers count in Redis as jobs finish (`TaskQueue.finish`); the app reads it all in one round
trip when /metrics is scraped, at most once a second, so scrapes never load Redis.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from myapi.core.registry import Resources
from myapi.tasks.queue import LATENCY_BUCKETS, QueueStats, Tasks

PATH = "/metrics"
FRESH_SECONDS = 1.0
TIMEOUT_SECONDS = 2.0

logger = logging.getLogger(__name__)


class QueueCollector(Collector):
    """The last `QueueStats` read, as Prometheus metrics (`tasks_up` is 0 when Redis did not
    answer)."""

    def __init__(self) -> None:
        self.stats: QueueStats | None = None
        self.read_at = 0.0
        self._lock = asyncio.Lock()

    async def refresh(self, tasks: Tasks) -> None:
        if time.monotonic() - self.read_at < FRESH_SECONDS or self._lock.locked():
            return
        async with self._lock:
            try:
                async with asyncio.timeout(TIMEOUT_SECONDS):
                    self.stats = await tasks.stats()
            except Exception as err:  # /metrics still answers; tasks_up says what happened
                logger.warning("reading the job queue's numbers failed: %s", err)
                self.stats = None
            self.read_at = time.monotonic()

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        up = 0.0 if stats is None else 1.0
        yield GaugeMetricFamily("tasks_up", "1 when the job queue's numbers were read.", up)
        if stats is None:
            return
        yield GaugeMetricFamily("tasks_jobs_queued", "Jobs waiting for a worker.", stats.queued)
        yield GaugeMetricFamily("tasks_jobs_active", "Jobs running now.", stats.active)
        yield GaugeMetricFamily(
            "tasks_jobs_scheduled",
            "Jobs due later (retries in backoff, periodic jobs).",
            stats.scheduled,
        )
        yield GaugeMetricFamily("tasks_workers", "Worker processes alive.", stats.workers)
        yield GaugeMetricFamily(
            "tasks_dead_letters",
            "Jobs in the dead-letter list (failed for good).",
            stats.dead_letters,
        )
        finished = CounterMetricFamily(
            "tasks_jobs",
            "Jobs finished (complete, failed, aborted) or retried, by function.",
            labels=["function", "status"],
        )
        for (function, status), count in sorted(stats.finished.items()):
            finished.add_metric([function, status], count)
        yield finished
        latency = HistogramMetricFamily(
            "tasks_job_latency_seconds",
            "Time from enqueue (or a scheduled time) to completion, retries included.",
            labels=["function"],
        )
        for function, counts in sorted(stats.latency_buckets.items()):
            bounds = [*(f"{bound:g}" for bound in LATENCY_BUCKETS), "+Inf"]
            cumulative = [sum(counts[: i + 1]) for i in range(len(counts))]
            latency.add_metric(
                [function],
                buckets=list(zip(bounds, cumulative, strict=True)),
                sum_value=stats.latency_sum.get(function, 0.0),
            )
        yield latency


class RefreshOnScrape:
    """Reads the queue's numbers just before /metrics answers (pure ASGI: costs other requests a
    comparison)."""

    def __init__(self, app: ASGIApp, collector: QueueCollector, state: State) -> None:
        self.app = app
        self.collector = collector
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == PATH:
            resources: Resources = self.state.resources
            await self.collector.refresh(resources.get(Tasks))
        await self.app(scope, receive, send)


def install_metrics(app: FastAPI) -> None:
    """Adds the queue's numbers to the monitoring feature's registry (installed before this)."""
    collector = QueueCollector()
    app.state.metrics.registry.register(collector)
    app.add_middleware(RefreshOnScrape, collector=collector, state=app.state)
