"""OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

The SDK and the exporter are imported only then, so nothing else pays for them. The provider
of the app (or CLI run) being set up is `current()`: features that trace their clients (the
database's engine, Redis) read it when they open their resources, so their spans join the
request's (or run's) trace. The last provider created wins (tests build many apps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from myapi.core.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

_current: TracerProvider | None = None


def create_tracer_provider(settings: Settings) -> TracerProvider | None:
    """A provider exporting spans over OTLP/HTTP in batches, or None when tracing is off."""
    global _current
    endpoint = settings.otel_exporter_otlp_endpoint
    if endpoint is None:
        _current = None
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = settings.otel_service_name or settings.app_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(span_exporter(endpoint)))
    _current = provider
    return provider


def span_exporter(endpoint: str) -> SpanExporter:
    """Where spans go: the OTLP/HTTP collector at `endpoint`."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces", timeout=5)


def current() -> TracerProvider | None:
    """The provider of the app or run being set up, or None when tracing is off."""
    return _current


def current_ids() -> dict[str, str]:
    """The trace and span ids of the span in progress, for log lines (none outside a span)."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
