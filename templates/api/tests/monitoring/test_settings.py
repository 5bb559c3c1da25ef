"""The monitoring feature's settings."""

from __future__ import annotations

import pytest

from myapi.monitoring.settings import Settings


def test_empty_otlp_endpoint_means_tracing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    assert Settings().otel_exporter_otlp_endpoint is None
