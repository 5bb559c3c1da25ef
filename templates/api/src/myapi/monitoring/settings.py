"""The monitoring feature's settings."""

from __future__ import annotations

from pydantic import field_validator

from myapi.core.settings import BaseConfig


class Settings(BaseConfig):
    access_log: bool = False
    """With the api feature, one JSON log line per HTTP request. Off by default: /metrics already
    counts and times every request, and the line costs about a third of a trivial request's time."""
    otel_exporter_otlp_endpoint: str | None = None
    """OTLP/HTTP collector (e.g. `http://127.0.0.1:4318`); tracing is off when unset."""
    otel_service_name: str | None = None

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return value or None
