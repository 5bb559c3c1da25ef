"""Request ids in headers and JSON logs, the access log, and spans per request."""

from __future__ import annotations

import logging

import httpx
import pytest

from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve
from tests.monitoring.fixtures import Collector, json_lines


async def test_request_id_is_echoed_and_logged(
    settings: Settings, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings.model_copy(update={"access_log": True}))  # logs: captured stderr
    async with serve(app) as client:
        response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    entries = json_lines(capsys.readouterr().err)
    [access] = [entry for entry in entries if entry.get("request_id") == "abc-123"]
    assert access["level"] == "INFO"
    assert access["message"] == "request"
    assert access["route"] == "/healthz"
    assert access["status"] == 200
    assert access["duration_ms"] >= 0


async def test_access_log_is_off_by_default(
    settings: Settings, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serve(create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
    assert [e for e in json_lines(capsys.readouterr().err) if e["message"] == "request"] == []


async def test_application_logs_carry_the_request_id(
    settings: Settings, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings)

    @app.get("/logged")
    async def logged() -> dict[str, str]:
        logging.getLogger("myapi.example").info("handled", extra={"fields": {"n": 1}})
        return {"logged": "yes"}

    async with serve(app) as client:
        assert (await client.get("/logged", headers={"X-Request-ID": "log-1"})).status_code == 200
    entries = json_lines(capsys.readouterr().err)
    [handled] = [entry for entry in entries if entry["message"] == "handled"]
    assert handled["request_id"] == "log-1"
    assert handled["n"] == 1


async def test_request_id_is_generated_when_missing_or_unsafe(client: httpx.AsyncClient) -> None:
    generated = (await client.get("/healthz")).headers["x-request-id"]
    assert len(generated) == 32
    int(generated, 16)
    unsafe = "a" * 200
    replaced = (await client.get("/healthz", headers={"X-Request-ID": unsafe})).headers
    assert replaced["x-request-id"] not in (unsafe, generated)


async def test_spans_are_exported_when_an_endpoint_is_set(
    settings: Settings, serve: Serve, collector: Collector
) -> None:
    app = create_app(settings.model_copy(update={"otel_exporter_otlp_endpoint": collector.url}))

    @app.get("/traced")
    async def traced() -> dict[str, str]:
        return {"traced": "yes"}

    async with serve(app) as client:
        assert (await client.get("/traced")).status_code == 200
    # Leaving the lifespan flushed the spans.
    paths = {path for path, _ in collector.received}
    assert paths == {"/v1/traces"}
    body = b"".join(body for _, body in collector.received)
    assert b"GET /traced" in body
    assert settings.app_name.encode() in body


async def test_no_tracing_without_an_endpoint(
    settings: Settings, serve: Serve, collector: Collector
) -> None:
    async with serve(create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
    assert collector.received == []
