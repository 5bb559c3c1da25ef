"""Every CLI run logs JSON lines under one run id, and is traced when an endpoint is set."""

from __future__ import annotations

import pytest

from myapi.cli import main
from tests.monitoring.fixtures import Collector, json_lines

pytestmark = pytest.mark.usefixtures("service_environment")


def test_a_run_logs_json_with_its_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    entries = json_lines(capsys.readouterr().err)
    [finished] = [entry for entry in entries if entry["message"] == "check finished"]
    assert finished["exit_code"] == 0
    assert len(finished["request_id"]) == 32
    assert main(["check"]) == 0
    again = json_lines(capsys.readouterr().err)
    assert again[-1]["request_id"] != finished["request_id"]  # one id per run


def test_a_run_is_traced_when_an_endpoint_is_set(
    monkeypatch: pytest.MonkeyPatch, collector: Collector
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.url)
    assert main(["check"]) == 0
    assert {path for path, _ in collector.received} == {"/v1/traces"}
    assert b"check" in b"".join(body for _, body in collector.received)
