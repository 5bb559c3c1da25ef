"""The alert rules (prometheus/alerts.rules.yml): valid, each one tested by promtool's unit tests
(prometheus/alerts.test.yml), and written against metrics the app exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

PROMETHEUS = Path(__file__).resolve().parents[2] / "prometheus"
RULES = PROMETHEUS / "alerts.rules.yml"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (it comes with Prometheus)"
)


def promtool(*args: str) -> str:
    assert PROMTOOL is not None
    done = subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@needs_promtool
def test_the_rules_are_valid() -> None:
    assert "SUCCESS" in promtool("check", "rules", RULES.name)


@needs_promtool
def test_the_rules_pass_their_unit_tests() -> None:
    assert "SUCCESS" in promtool("test", "rules", "alerts.test.yml")


def test_every_rule_has_a_unit_test() -> None:
    rules = set(re.findall(r"- alert: (\w+)", RULES.read_text()))
    tested = set(re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts.test.yml").read_text()))
    assert rules
    assert rules == tested


async def test_the_rules_use_metrics_the_app_exports(client: httpx.AsyncClient) -> None:
    await client.get("/healthz")
    exported = (await client.get("/metrics")).text
    expressions = RULES.read_text()
    for metric in ("http_requests_total", "http_request_duration_seconds_bucket", "dependency_up"):
        assert metric in expressions
        # a sample, or the family without samples yet (dependency_up with no dependency)
        assert re.search(rf"^{metric}\{{|^# TYPE {metric} ", exported, re.MULTILINE), metric
