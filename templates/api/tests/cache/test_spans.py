"""With tracing on, a request's Redis commands are spans under its server span, in its trace."""

from __future__ import annotations

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from myapi.core.config import Settings
from myapi.main import create_app
from tests.api.fixtures import Serve
from tests.monitoring.fixtures import TRACED, children


async def test_a_request_traces_its_redis_commands(
    settings: Settings, serve: Serve, spans: InMemorySpanExporter
) -> None:
    async with serve(create_app(settings.model_copy(update=TRACED))) as client:
        assert (await client.get("/fibonacci/77")).status_code == 200  # a miss, then a fill
    finished = spans.get_finished_spans()
    [server] = [s for s in finished if s.kind is SpanKind.SERVER and s.name == "GET /fibonacci/{n}"]
    commands = [s for s in children(server, finished) if s.kind is SpanKind.CLIENT]
    assert {s.name for s in commands} >= {"GET", "SET"}, [(s.name, s.parent) for s in finished]
    assert all(s.attributes and s.attributes.get("db.system") == "redis" for s in commands)
    assert server.context is not None
    assert {s.context.trace_id for s in commands if s.context} == {server.context.trace_id}
