"""The monitoring feature's test fixtures: no tracing unless a test asks, a stand-in OTLP
collector for those that do, and `spans` for tests that look at the spans themselves."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from myapi.monitoring import tracing

EXAMPLE_ENV: dict[str, str] = {}
BAD_ENV = {"ACCESS_LOG": ["perhaps"]}
"""Values each setting must refuse (with one line naming it, never showing the value)."""


@pytest.fixture
def monitoring_settings() -> dict[str, Any]:
    return {"otel_exporter_otlp_endpoint": None}


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


TRACED = {"otel_exporter_otlp_endpoint": "http://127.0.0.1:4318"}
"""Settings that turn tracing on; with the `spans` fixture nothing is sent there."""


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Spans the apps (and CLI runs) built in this test export, kept in memory."""
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "span_exporter", lambda endpoint: exporter)
    return exporter


def children(parent: ReadableSpan, finished: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    """The spans started directly under `parent`."""
    assert parent.context is not None
    return [
        s for s in finished if s.parent is not None and s.parent.span_id == parent.context.span_id
    ]


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
