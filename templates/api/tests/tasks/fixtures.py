"""The tasks feature's test fixtures: its settings point at `redis_url` (tests/redis_server.py),
`tasks` is the queue opened as the app opens it, and `workers` starts real worker processes
(`python -m myapi worker`) and stops them after the test."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from myapi.core.config import Settings
from myapi.core.resources import open_resources
from myapi.tasks.queue import Tasks

EXAMPLE_ENV = {"REDIS_URL": "redis://tasks.example:6379/0"}
"""A valid value of every setting without a default (for tests that build Settings alone)."""


@pytest.fixture
def tasks_settings(redis_url: str) -> dict[str, Any]:
    # Short retry delays and stops keep the tests short.
    return {"redis_url": redis_url, "tasks_retry_delay": 0.2, "tasks_shutdown_grace_seconds": 3}


@pytest.fixture
async def tasks(settings: Settings) -> AsyncIterator[Tasks]:
    """The job queue, opened with every feature's resources as the app and the CLI open it."""
    async with open_resources(settings) as resources:
        yield resources.get(Tasks)


class Worker:
    """One `python -m myapi worker` process, in a session (process group) of its own."""

    def __init__(self, environment: dict[str, str], folder: Path, number: int) -> None:
        self.log = folder / f"worker-{number}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "myapi", "worker"],
                cwd=folder,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, number: signal.Signals) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, number)

    async def exited(self, within: float) -> int:
        """Its exit code, once it has exited (at most `within` seconds from now)."""
        deadline = time.monotonic() + within
        while (code := self.process.poll()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the worker still runs after {within:g}s\n{self.output()}")
            await asyncio.sleep(0.05)
        return code

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Workers:
    """Starts workers with the test settings; kills whatever still runs at the end."""

    def __init__(self, feature_settings: dict[str, Any], folder: Path) -> None:
        self.folder = folder
        self.started: list[Worker] = []
        environment = {name: value for name, value in os.environ.items() if name != "APP_NAME"}
        for name, value in feature_settings.items():
            environment.pop(name.upper(), None)
            if value is not None:
                environment[name.upper()] = str(value)
        self.environment = environment

    def start(self, **settings: str) -> Worker:
        """A worker with these settings over the test's (`TASKS_HEARTBEAT_CRON="* * * * * *"`)."""
        worker = Worker({**self.environment, **settings}, self.folder, len(self.started))
        self.started.append(worker)
        return worker

    def output(self) -> str:
        return "\n".join(f"--- {w.log.name}\n{w.output()}" for w in self.started)

    def stop_all(self) -> None:
        for worker in self.started:
            worker.signal(signal.SIGKILL)
            worker.process.wait(timeout=10)


@pytest.fixture
def workers(feature_settings: dict[str, Any], tmp_path: Path) -> Iterator[Workers]:
    """Real worker processes, run in a folder without a `.env`; none outlives the test."""
    started = Workers(feature_settings, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


async def until(
    check: Callable[[], Awaitable[bool]], within: float, what: str, output: Callable[[], str]
) -> None:
    """Waits until `check()` is true; after `within` seconds fails, showing the workers' logs."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within:g}s\n{output()}")
        await asyncio.sleep(0.05)


@pytest.fixture
def tasks_traffic(workers: Workers) -> Callable[[httpx.AsyncClient], Awaitable[None]]:
    """What the tasks feature adds to a test's traffic (the dashboard's): a job run to completion
    by a real worker, so the queue's counters and latencies have samples."""

    async def traffic(client: httpx.AsyncClient) -> None:
        workers.start()
        response = await client.post("/tasks/example", json={"text": "some traffic"})
        assert response.status_code == 202
        job = response.json()["id"]

        async def complete() -> bool:
            polled = await client.get(f"/tasks/jobs/{job}")
            return bool(polled.json()["status"] == "complete")

        await until(complete, 20, "the job completed", workers.output)

    return traffic
