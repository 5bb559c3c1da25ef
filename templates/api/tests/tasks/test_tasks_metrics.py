"""/metrics carries the job queue's numbers: waiting, running, workers, finished by status, and the
latency of completed jobs."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve
from tests.tasks.fixtures import Workers, until

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name.startswith("tasks_")
    }


def jobs(status: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    return "tasks_jobs_total", (("function", "example"), ("status", status))


async def test_queue_numbers_on_metrics(client: httpx.AsyncClient, workers: Workers) -> None:
    for text in ("one", "two words"):
        assert (await client.post("/tasks/example", json={"text": text})).status_code == 202
    waiting = await scrape(client)
    assert waiting[("tasks_up", ())] == 1
    assert waiting[("tasks_jobs_queued", ())] == 2
    assert waiting[("tasks_workers", ())] == 0
    assert jobs("complete") not in waiting

    workers.start()
    found: Samples = {}

    async def both_done() -> bool:
        found.update(await scrape(client))  # read from Redis at most once a second
        return found.get(jobs("complete")) == 2

    await until(both_done, 10, "/metrics counted both jobs", workers.output)
    assert found[("tasks_jobs_queued", ())] == 0
    assert found[("tasks_workers", ())] == 1
    assert found[("tasks_dead_letters", ())] == 0
    count = ("tasks_job_latency_seconds_count", (("function", "example"),))
    infinite = ("tasks_job_latency_seconds_bucket", (("function", "example"), ("le", "+Inf")))
    assert found[count] == found[infinite] == 2
    assert 0 < found[("tasks_job_latency_seconds_sum", (("function", "example"),))] < 10


async def test_metrics_answer_when_redis_does_not(
    settings: Settings, serve: Serve, closed_port: int
) -> None:
    down = f"redis://127.0.0.1:{closed_port}/0"
    app = create_app(settings.model_copy(update={"redis_url": SecretStr(down)}))
    async with serve(app) as client:
        samples = await scrape(client)
    assert samples == {("tasks_up", ()): 0}
