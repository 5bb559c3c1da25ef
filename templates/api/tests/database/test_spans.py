"""With tracing on, a request's SQL statements are spans under its server span, in its trace, and
its log lines carry that trace's ids."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve
from tests.monitoring.fixtures import TRACED, children, json_lines


async def test_a_request_traces_its_sql_statements(
    settings: Settings,
    serve: Serve,
    spans: InMemorySpanExporter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = create_app(settings.model_copy(update={**TRACED, "access_log": True}))
    async with serve(app) as client:
        response = await client.post("/items", json={"name": "traced"})
        assert response.status_code == 201
    finished = spans.get_finished_spans()  # leaving the lifespan flushed them
    [server] = [s for s in finished if s.kind is SpanKind.SERVER and s.name == "POST /items"]
    statements = [s for s in children(server, finished) if s.kind is SpanKind.CLIENT]
    assert statements, [(s.name, s.kind, s.parent) for s in finished]
    assert all(s.attributes and s.attributes.get("db.system") == "postgresql" for s in statements)
    assert any("INSERT" in str((s.attributes or {}).get("db.statement")) for s in statements)
    assert server.context is not None
    assert {s.context.trace_id for s in statements if s.context} == {server.context.trace_id}

    [line] = [
        entry
        for entry in json_lines(capsys.readouterr().err)
        if entry["message"] == "request" and entry.get("route") == "/items"
    ]
    assert line["request_id"] == response.headers["x-request-id"]
    assert line["trace_id"] == f"{server.context.trace_id:032x}"
    assert line["span_id"] == f"{server.context.span_id:016x}"
