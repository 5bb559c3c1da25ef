"""/tasks: enqueue the example over HTTP and poll it to completion through a real worker."""

from __future__ import annotations

from typing import Any

import httpx

from tests.tasks.fixtures import Workers, until


async def test_enqueue_and_poll_to_completion(client: httpx.AsyncClient, workers: Workers) -> None:
    workers.start()
    response = await client.post("/tasks/example", json={"text": "to be or not to be"})
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    seen: dict[str, Any] = {}

    async def complete() -> bool:
        polled = await client.get(f"/tasks/jobs/{job_id}")
        assert polled.status_code == 200
        seen.update(polled.json())
        return bool(seen["status"] == "complete")

    await until(complete, 10, "the job completed", workers.output)
    assert seen["result"] == {"text": "to be or not to be", "words": 6, "attempt": 1}
    assert (seen["id"], seen["function"], seen["attempts"], seen["error"]) == (
        job_id,
        "example",
        1,
        None,
    )
    assert seen["queued"] <= seen["started"] <= seen["completed"]


async def test_an_idempotency_key_is_the_job_id(client: httpx.AsyncClient) -> None:
    body = {"text": "pay order 42", "key": "order-42"}
    first = await client.post("/tasks/example", json=body)
    second = await client.post("/tasks/example", json=body)  # still queued: the same job
    assert first.json() == second.json() == {"id": "order-42", "status": "queued"}
    job = (await client.get("/tasks/jobs/order-42")).json()
    assert (job["status"], job["attempts"], job["result"]) == ("queued", 0, None)


async def test_unknown_jobs_and_bad_input(client: httpx.AsyncClient) -> None:
    assert (await client.get("/tasks/jobs/no-such-job")).status_code == 404
    assert (await client.get("/tasks/jobs/bad%20id")).status_code == 422
    assert (await client.post("/tasks/example", json={"text": ""})).status_code == 422
    bad_key = {"text": "x", "key": "has spaces"}
    assert (await client.post("/tasks/example", json=bad_key)).status_code == 422
    assert (await client.get("/tasks/dead-letters")).json() == []
