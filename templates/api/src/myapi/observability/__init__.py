"""Monitoring: JSON logs with request ids, Prometheus metrics, OpenTelemetry tracing."""
