"""With tracing on, enqueueing a job traces the queue's Redis commands under the request's span."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve
from tests.monitoring.fixtures import TRACED, children


async def test_enqueueing_traces_the_queues_redis_commands(
    settings: Settings, serve: Serve, spans: InMemorySpanExporter
) -> None:
    async with serve(create_app(settings.model_copy(update=TRACED))) as client:
        response = await client.post("/tasks/example", json={"text": "traced"})
        assert response.status_code == 202
    finished = spans.get_finished_spans()
    [server] = [
        s for s in finished if s.kind is SpanKind.SERVER and s.name == "POST /tasks/example"
    ]
    commands = [s for s in children(server, finished) if s.kind is SpanKind.CLIENT]
    assert commands, [(s.name, s.parent) for s in finished]
    assert all(s.attributes and s.attributes.get("db.system") == "redis" for s in commands)
    assert server.context is not None
    assert {s.context.trace_id for s in commands if s.context} == {server.context.trace_id}
