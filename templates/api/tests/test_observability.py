"""JSON logs carrying the request id (echoed in X-Request-ID), and traces sent over OTLP."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from myapi.core.config import Settings
from myapi.main import create_app

Serve = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


@dataclass
class Collector:
    """A stand-in OTLP/HTTP collector: records what exporters POST to it."""

    url: str
    received: list[tuple[str, bytes]] = field(default_factory=list)


@pytest.fixture
def collector() -> Iterator[Collector]:
    found = Collector(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            found.received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


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
    async with serve(create_app(settings)) as client:
        headers = {"X-Request-ID": "create-1"}
        item = (await client.post("/items", json={"name": "logged"}, headers=headers)).json()
    entries = json_lines(capsys.readouterr().err)
    [created] = [entry for entry in entries if entry["message"] == "item created"]
    assert created["request_id"] == "create-1"
    assert created["item_id"] == item["id"]


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
