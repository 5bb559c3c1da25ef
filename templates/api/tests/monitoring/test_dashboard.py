"""Every PromQL expression of the Grafana dashboard returns a series from a real Prometheus that
scraped the app under a little traffic (Grafana itself is not needed: its template variables
are substituted as it would).

The traffic: a GET of every route in the OpenAPI document (path parameters set to 1, so some are
404s), a path that does not exist, and what each feature adds through a `<feature>_traffic`
fixture (the tasks feature runs a job through a real worker). Skipped only when no `prometheus`
binary is on PATH (`riso up`, `nix develop` or `apt-get install prometheus` provide one).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from myapi.core.config import Settings
from myapi.features import FEATURES
from myapi.main import create_app

JOB = "myapi"
DASHBOARDS = Path(__file__).resolve().parents[2] / "grafana" / "dashboards"
# Grafana's variables as it would fill them for a short range (scrapes below are 1 s apart).
GRAFANA_VARIABLES = {"$__rate_interval": "30s", "$__interval": "5s", "$__range": "5m"}
Traffic = Callable[[httpx.AsyncClient], Awaitable[None]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def expressions() -> list[str]:
    """Every `expr` in the dashboards, Grafana's variables substituted."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                found.append(node["expr"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(DASHBOARDS.glob("*.json")):
        walk(json.loads(path.read_text()))
    substituted = []
    for expr in found:
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"a Grafana variable this test does not know: {expr}"
        substituted.append(expr)
    return substituted


@pytest.fixture
async def app_url(settings: Settings) -> AsyncIterator[str]:
    """The app served by uvicorn on a real port, as Prometheus scrapes it."""
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        assert not serving.done(), "the app did not start"
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


@pytest.fixture
def prometheus(app_url: str, tmp_path: Path) -> Iterator[str]:
    """A real Prometheus scraping the app every second, under the job name the dashboard uses."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("no prometheus binary on PATH (riso up, nix develop or apt-get provide one)")
    target = urllib.parse.urlsplit(app_url).netloc
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
        f"  - job_name: {JOB}\n    static_configs:\n      - targets: ['{target}']\n"
    )
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


async def generic_traffic(client: httpx.AsyncClient) -> None:
    """A GET of every documented route (path parameters set to 1), and of a path that is not."""
    document = (await client.get("/openapi.json")).json()
    for path, operations in document["paths"].items():
        if "get" in operations:
            await client.get(re.sub(r"\{[^}]+\}", "1", path))
    assert (await client.get("/no-such-route")).status_code == 404


def feature_traffic(request: pytest.FixtureRequest) -> list[Traffic]:
    """What the features add (`<feature>_traffic` fixtures, where they define one)."""
    found = []
    for feature in FEATURES:
        try:
            found.append(request.getfixturevalue(f"{feature.name}_traffic"))
        except pytest.FixtureLookupError:
            continue
    return found


async def query(client: httpx.AsyncClient, prometheus: str, expr: str) -> list[Any]:
    response = await client.get(f"{prometheus}/api/v1/query", params={"query": expr})
    assert response.status_code == 200, (expr, response.text)
    return list(response.json()["data"]["result"])


async def test_every_dashboard_expression_returns_a_series(
    app_url: str, prometheus: str, request: pytest.FixtureRequest
) -> None:
    wanted = expressions()
    assert wanted, f"no expressions in {DASHBOARDS}"
    async with httpx.AsyncClient(base_url=app_url, timeout=30) as client:
        await generic_traffic(client)
        for traffic in feature_traffic(request):
            await traffic(client)
        empty = wanted
        deadline = time.monotonic() + 60
        while empty and time.monotonic() < deadline:  # rates need two scrapes after the traffic
            await generic_traffic(client)
            empty = [expr for expr in wanted if not await query(client, prometheus, expr)]
            await asyncio.sleep(1)
    assert empty == []
