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


# Stands in for the app (no install needed): /healthz for readiness, /metrics for Prometheus.
STAND_IN_APP = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"stand_in_up 1\\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def test_prometheus_scrapes_the_app_on_its_configured_port(project: Path) -> None:
    """`[tool.riso.processes.app] port = 0`: the app gets a port of its own (not 8000), and the
    Prometheus `riso up` starts scrapes it there."""
    (project / "stand_in_app.py").write_text(STAND_IN_APP)
    manifest = project / "pyproject.toml"
    manifest.write_text(
        manifest.read_text() + '\n[tool.riso.processes.app]\ncommand = "python3 stand_in_app.py {port}"\nport = 0\n'
    )
    started = riso("up", "-d", "--allow-missing", cwd=project, timeout=180)
    assert started.code == 0, started.output
    exports = dict(line.split("=", 1) for line in riso("env", "--dotenv", cwd=project).stdout.splitlines())
    app_port = int(exports["APP_URL"].strip("'").rsplit(":", 1)[1])
    assert app_port != 8000
    url = f"{prometheus_url(project)}/api/v1/targets"
    deadline = time.monotonic() + 60
    app: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(url, timeout=5) as response:
            targets = json.load(response)["data"]["activeTargets"]
        app = [t for t in targets if t["labels"]["job"] == "rules"]
        if app and app[0]["health"] == "up":
            break
        time.sleep(0.5)
    assert [(t["scrapeUrl"], t["health"]) for t in app] == [(f"http://127.0.0.1:{app_port}/metrics", "up")]
