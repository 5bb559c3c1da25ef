"""The Prometheus that `riso up` starts evaluates the alert rules of a rendered project (the
monitoring feature's prometheus/alerts.rules.yml, with the api feature)."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_support import needs_prometheus, open_folder, riso, stop_project

from riso import generate

pytestmark = [needs_prometheus]


@pytest.fixture
def project() -> Iterator[Path]:
    root = open_folder("riso-rules-") / "rules"
    generate.render(root, {"project_name": "rules", "features": ["api", "monitoring"]})
    yield root
    stop_project(root)
    shutil.rmtree(root.parent, ignore_errors=True)


def prometheus_url(root: Path) -> str:
    exports = riso("env", "--dotenv", cwd=root)
    assert exports.code == 0, exports.output
    return dict(line.split("=", 1) for line in exports.stdout.splitlines())["PROMETHEUS_URL"].strip("'")


def test_riso_up_loads_the_project_alert_rules(project: Path) -> None:
    assert (project / "prometheus" / "alerts.rules.yml").is_file()
    started = riso("up", "-d", "--services-only", "--allow-missing", cwd=project, timeout=180)
    assert started.code == 0, started.output
    url = f"{prometheus_url(project)}/api/v1/rules"
    deadline = time.monotonic() + 30
    names: list[str] = []
    while time.monotonic() < deadline and not names:
        with urllib.request.urlopen(url, timeout=5) as response:
            groups = json.load(response)["data"]["groups"]
        names = sorted(rule["name"] for group in groups for rule in group["rules"])
        time.sleep(0.2)
    assert names == [
        "DependencyDegraded",
        "DependencyUnavailable",
        "HighErrorRatio",
        "HighLatencyP99",
        "ServiceDown",
    ]
