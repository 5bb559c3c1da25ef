"""OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

The SDK and the exporter are imported only then, so nothing else pays for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from myapi.core.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


def create_tracer_provider(settings: Settings) -> TracerProvider | None:
    """A provider exporting spans over OTLP/HTTP in batches, or None when tracing is off."""
    endpoint = settings.otel_exporter_otlp_endpoint
    if endpoint is None:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = settings.otel_service_name or settings.app_name
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces", timeout=5)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def current_ids() -> dict[str, str]:
    """The trace and span ids of the span in progress, for log lines (none outside a span)."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
