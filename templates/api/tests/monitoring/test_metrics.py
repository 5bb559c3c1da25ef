"""/metrics counts requests by route template, and times them."""

from __future__ import annotations

import httpx
from fastapi import HTTPException
from prometheus_client.parser import text_string_to_metric_families

from myapi.core.config import Settings
from myapi.core.registry import Resources
from myapi.main import create_app
from tests.api.fixtures import Serve


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(route: str, status: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    labels = {"method": "GET", "route": route, "status": status}
    return "http_requests_total", tuple(sorted(labels.items()))


async def test_requests_are_counted_by_route_template(settings: Settings, serve: Serve) -> None:
    app = create_app(settings)

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        raise HTTPException(404, f"no thing {thing_id}")

    async with serve(app) as client:
        await requests_of_every_kind(client)
        samples = await scrape(client)
    assert samples[requests("/healthz", "200")] == 3
    assert samples[requests("<unmatched>", "404")] == 2  # unknown paths share one series
    other = ("http_requests_total", (("method", "OTHER"), ("route", "/healthz"), ("status", "405")))
    assert samples[other] == 1
    assert samples[requests("/things/{thing_id}", "404")] == 3  # the template, not the path
    latency = ("http_request_duration_seconds_count", (("method", "GET"), ("route", "/healthz")))
    assert samples[latency] == 3
    assert not any("/no/such/page" in str(labels) for _, labels in samples)


async def requests_of_every_kind(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.get("/healthz")
    await client.get("/no/such/page")
    await client.get("/another/missing/page")
    await client.request("BREW", "/healthz")  # any method token: one bounded series
    for thing_id in (1, 2, 3):
        await client.get(f"/things/{thing_id}")


async def test_every_route_is_counted_by_its_template(settings: Settings, serve: Serve) -> None:
    async with serve(create_app(settings)) as client:
        for path in ("/docs", "/openapi.json", "/redoc"):
            assert (await client.get(path)).status_code == 200
        samples = await scrape(client)
    for route in ("/docs", "/openapi.json", "/redoc"):
        assert samples[requests(route, "200")] == 1
    assert not any(dict(labels).get("route") == "<unmatched>" for _, labels in samples)


async def test_process_gc_and_requests_in_flight_are_exported(
    settings: Settings, serve: Serve
) -> None:
    async with serve(create_app(settings)) as client:
        samples = await scrape(client)
    names = {name for name, _ in samples}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes"} <= names
    assert "python_gc_collections_total" in names
    assert "python_info" in names
    assert samples[("http_requests_in_flight", ())] == 1  # the scrape itself


async def test_the_features_metrics_and_dependencies_are_exported(
    settings: Settings, serve: Serve
) -> None:
    app = create_app(settings)
    async with serve(app) as client:
        samples = await scrape(client)
        resources: Resources = app.state.resources
    for metric in resources.metrics:  # cache hits and misses, connections in use, ...
        name = f"{metric.name}_total" if metric.kind == "counter" else metric.name
        labels = tuple(sorted(metric.labels.items()))
        assert (name, labels) in samples, name
    for dependency in resources.probes:  # every probe answered: up
        required = "false" if dependency in resources.optional else "true"
        labels = (("dependency", dependency), ("required", required))
        assert samples[("dependency_up", labels)] == 1
