"""Request ids in headers and JSON logs, the access log, and spans per request."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve
from tests.monitoring.fixtures import Collector, json_lines
from tests.test_config import example_environment


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


async def test_log_lines_carry_the_trace_and_span_ids_when_tracing_is_on(
    settings: Settings, serve: Serve, collector: Collector, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings.model_copy(update={"otel_exporter_otlp_endpoint": collector.url}))

    @app.get("/traced-and-logged")
    async def traced() -> dict[str, str]:
        logging.getLogger("myapi.example").info("inside a span")
        return {"traced": "yes"}

    async with serve(app) as client:
        assert (await client.get("/traced-and-logged")).status_code == 200
    [entry] = [e for e in json_lines(capsys.readouterr().err) if e["message"] == "inside a span"]
    assert len(entry["trace_id"]) == 32
    assert len(entry["span_id"]) == 16
    int(entry["trace_id"], 16)
    body = b"".join(body for _, body in collector.received)
    assert bytes.fromhex(entry["trace_id"]) in body  # the exported span's trace


async def test_no_trace_ids_without_tracing(
    settings: Settings, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings)

    @app.get("/logged-untraced")
    async def logged() -> dict[str, str]:
        logging.getLogger("myapi.example").info("no span")
        return {"logged": "yes"}

    async with serve(app) as client:
        assert (await client.get("/logged-untraced")).status_code == 200
    [entry] = [e for e in json_lines(capsys.readouterr().err) if e["message"] == "no span"]
    assert "trace_id" not in entry


FACTORY = "myapi.main:create_app"


def test_uvicorn_own_lines_are_json_too(tmp_path: Path) -> None:
    """`uvicorn FACTORY --factory`: uvicorn's lines, from start to the last one after shutdown,
    are JSON like the app's."""
    environment = {**os.environ, **example_environment(), "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "uvicorn", FACTORY, "--factory", "--port", "0"]
    with log.open("w") as stderr:
        server = subprocess.Popen(command, cwd=tmp_path, env=environment, stderr=stderr)
    try:
        deadline = time.monotonic() + 30
        while "Application startup complete" not in log.read_text():
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    finally:
        server.kill()
    entries = json_lines(log.read_text())  # every line parses
    messages = [entry["message"] for entry in entries]
    assert "Application startup complete." in messages
    assert "Application shutdown complete." in messages
    assert any(message.startswith("Finished server process") for message in messages)
