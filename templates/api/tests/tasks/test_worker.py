"""Jobs through real worker processes (`python -m myapi worker`) and Redis: end to end,
retries with backoff, a worker killed mid-job, idempotent redelivery, periodic jobs, a graceful
stop and the dead-letter list."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from saq import Job, Status

from myapi.tasks.queue import Tasks
from tests.tasks.fixtures import Workers, until

TERMINAL = (Status.COMPLETE, Status.FAILED, Status.ABORTED)


async def finished(tasks: Tasks, job_id: str, workers: Workers, within: float = 10) -> Job:
    """The job once it has finished (complete, failed or aborted)."""
    found: list[Job] = []

    async def done() -> bool:
        job = await tasks.job(job_id)
        found[:] = [job] if job is not None else []
        return job is not None and job.status in TERMINAL

    await until(done, within, f"job {job_id} finished", workers.output)
    return found[0]


async def words(tasks: Tasks) -> int:
    """The example's running total: how many times its effect happened, in words."""
    return int(await tasks.redis.get(tasks.queue.namespace("example:words")) or 0)


@asynccontextmanager
async def job_events(tasks: Tasks, job_id: str) -> AsyncIterator[list[tuple[float, str]]]:
    """(time.monotonic(), status) of each change SAQ publishes for the job, as it happens."""
    events: list[tuple[float, str]] = []
    pubsub = tasks.redis.pubsub()
    await pubsub.subscribe(tasks.queue.job_id(job_id))
    while (await pubsub.get_message(timeout=1.0)) is None:  # the subscription is confirmed
        pass

    async def listen() -> None:
        async for message in pubsub.listen():
            if message["type"] == "message":
                events.append((time.monotonic(), message["data"].decode()))

    listening = asyncio.create_task(listen())
    try:
        yield events
    finally:
        listening.cancel()
        await pubsub.aclose()  # type: ignore[no-untyped-call]


async def test_a_job_runs_end_to_end(tasks: Tasks, workers: Workers) -> None:
    workers.start()
    job = await tasks.enqueue("example", {"text": "hello brave new world"})
    assert job.status is Status.QUEUED
    done = await finished(tasks, job.key, workers)
    assert done.status is Status.COMPLETE, workers.output()
    assert done.result == {"text": "hello brave new world", "words": 4, "attempt": 1}
    assert done.attempts == 1
    assert await words(tasks) == 4


async def test_a_failing_job_is_retried_with_backoff(tasks: Tasks, workers: Workers) -> None:
    workers.start()
    job_id, delay = str(uuid.uuid4()), 0.3
    async with job_events(tasks, job_id) as events:
        await tasks.enqueue(
            "example",
            {"text": "third time lucky", "fail_attempts": 2},
            key=job_id,
            retry_delay=delay,
            retries=5,
        )
        done = await finished(tasks, job_id, workers)
    assert done.status is Status.COMPLETE, workers.output()
    assert (done.attempts, done.result["attempt"]) == (3, 3), workers.output()
    assert "sweeping" not in workers.output()  # each retry came from a failure, none from the sweep
    starts = [at for at, status in events if status == "active"]
    retries = [at for at, status in events if status == "queued"]
    assert (len(starts), len(retries)) == (3, 2), events
    # SAQ's backoff: the n-th retry waits a random time up to delay * 2**(n-1) (full jitter),
    # then until the worker's next schedule pass (each second).
    for n, (failed, started) in enumerate(zip(retries, starts[1:], strict=True), start=1):
        assert 0 < started - failed <= delay * 2 ** (n - 1) + 1.0 + 0.5, events


async def test_a_killed_worker_does_not_lose_the_job(tasks: Tasks, workers: Workers) -> None:
    first = workers.start()
    # 1 s of work; a job whose worker died is taken back once it is older than its timeout
    job = await tasks.enqueue("example", {"text": "one two three", "seconds": 1.0}, timeout=2)

    async def running() -> bool:
        current = await tasks.job(job.key)
        return current is not None and current.status is Status.ACTIVE

    await until(running, 10, "the job started", workers.output)
    first.signal(signal.SIGKILL)
    assert await first.exited(5) == -signal.SIGKILL
    killed = time.monotonic()
    workers.start()
    done = await finished(tasks, job.key, workers, within=20)
    # timeout 2 s + sweep 1 s + the sweep's wait 2 s + backoff + 1 s of work, with room to spare
    assert time.monotonic() - killed < 15
    assert done.status is Status.COMPLETE, workers.output()
    assert (done.attempts, done.result["attempt"]) == (2, 2)
    assert await words(tasks) == 3  # the effect happened once


async def test_the_example_is_idempotent_under_redelivery(tasks: Tasks, workers: Workers) -> None:
    workers.start()
    await tasks.enqueue("example", {"text": "a b"}, key="k1")
    first = await finished(tasks, "k1", workers)
    assert first.status is Status.COMPLETE, workers.output()
    # the same job delivered again (as after a worker died between its effect and its end)
    again = await tasks.enqueue("example", {"text": "a b"}, key="k1")
    second = await finished(tasks, again.key, workers)
    assert second.status is Status.COMPLETE
    assert second.result == first.result == {"text": "a b", "words": 2, "attempt": 1}
    assert await words(tasks) == 2  # once, not twice


async def test_a_key_queued_twice_runs_once(tasks: Tasks, workers: Workers) -> None:
    first = await tasks.enqueue("example", {"text": "only once"}, key="order-7")
    second = await tasks.enqueue("example", {"text": "only once"}, key="order-7")
    assert first.key == second.key == "order-7"
    assert (await tasks.stats()).queued == 1
    workers.start()
    done = await finished(tasks, "order-7", workers)
    assert (done.status, done.attempts) == (Status.COMPLETE, 1)
    assert await words(tasks) == 2


async def test_a_periodic_job_fires(tasks: Tasks, workers: Workers) -> None:
    workers.start(TASKS_HEARTBEAT_CRON="* * * * * *")  # every second

    async def fired_twice() -> bool:
        return (await tasks.stats()).finished.get(("heartbeat", "complete"), 0) >= 2

    await until(fired_twice, 8, "the heartbeat ran twice", workers.output)
    last = float(await tasks.redis.get(tasks.queue.namespace("heartbeat")) or 0)
    assert time.time() - last < 5


async def test_sigterm_lets_the_running_job_finish(tasks: Tasks, workers: Workers) -> None:
    worker = workers.start()
    job = await tasks.enqueue("example", {"text": "finish me", "seconds": 1.0})

    async def running() -> bool:
        current = await tasks.job(job.key)
        return current is not None and current.status is Status.ACTIVE

    await until(running, 10, "the job started", workers.output)
    worker.signal(signal.SIGTERM)
    assert await worker.exited(5) == 0, worker.output()
    done = await tasks.job(job.key)
    assert done is not None
    assert (done.status, done.attempts) == (Status.COMPLETE, 1)


async def test_a_job_that_keeps_failing_is_dead_lettered(tasks: Tasks, workers: Workers) -> None:
    workers.start()
    job = await tasks.enqueue("example", {"text": "never", "fail_attempts": 9}, retries=2)
    done = await finished(tasks, job.key, workers)
    assert (done.status, done.attempts) == (Status.FAILED, 2), workers.output()

    async def dead_lettered() -> bool:  # written just after the job's final status
        return bool(await tasks.dead_letters())

    await until(dead_lettered, 5, "the job in the dead-letter list", workers.output)
    [letter] = await tasks.dead_letters()
    assert (letter["id"], letter["function"], letter["attempts"]) == (job.key, "example", 2)
    assert letter["kwargs"] == {"text": "never", "fail_attempts": 9}
    assert "fails on purpose" in letter["error"]
    stats = await tasks.stats()
    assert stats.dead_letters == 1
    assert stats.finished[("example", "failed")] == 1
    assert stats.finished[("example", "retried")] == 1
