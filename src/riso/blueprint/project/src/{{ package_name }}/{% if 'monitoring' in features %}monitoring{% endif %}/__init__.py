"""The monitoring feature: JSON logs with request (or run) ids, OpenTelemetry tracing, and with
the api feature Prometheus metrics on /metrics."""
