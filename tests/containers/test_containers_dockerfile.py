"""The generated Dockerfile, read by dockerfile-parse: stages, user, healthcheck, port, command."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from container_support import COMBINATIONS, MANAGERS, Render, combo_id
from dockerfile_parse import DockerfileParser

combos = pytest.mark.parametrize("features", COMBINATIONS, ids=combo_id)


def instructions(path: Path) -> list[tuple[str, str]]:
    parser = DockerfileParser(path=str(path))
    return [(i["instruction"], i["value"]) for i in parser.structure if i["instruction"] != "COMMENT"]


def stages(steps: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The instructions of each FROM ... stage, in order."""
    found: list[list[tuple[str, str]]] = []
    for step in steps:
        if step[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(step)
    return found


def exec_form(value: str) -> list[str]:
    """`CMD [...]` / `HEALTHCHECK ... CMD [...]`: the JSON argv."""
    argv = json.loads(value[value.index("[") :])
    assert isinstance(argv, list)
    return [str(a) for a in argv]


@combos
@pytest.mark.parametrize("manager", MANAGERS)
def test_two_stages_and_a_non_root_final_image(features: tuple[str, ...], manager: str, render: Render) -> None:
    path = render(features, "compose", manager) / "Dockerfile"
    parser = DockerfileParser(path=str(path))
    assert parser.is_multistage
    builder, final = stages(instructions(path))
    assert builder[0][1].endswith(" AS builder")
    assert final[0][1].endswith(" AS runtime")
    assert parser.parent_images == ["python:3.11-slim-bookworm"] * 2
    # Locked dependencies in the builder, then only the virtualenv crosses into the final image.
    if manager == "uv":
        assert ("COPY", "pyproject.toml uv.lock README.md ./") in builder
        syncs = [v for i, v in builder if i == "RUN" and v.startswith("uv sync")]
        assert syncs == ["uv sync --frozen --no-dev --no-install-project", "uv sync --frozen --no-dev --no-editable"]
    else:
        assert ("COPY", "pyproject.toml poetry.lock README.md ./") in builder
        assert any(i == "RUN" and "poetry check --lock && poetry install --only main" in v for i, v in builder)
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in final
    assert not any(i == "RUN" and ("poetry" in v or "uv " in v) for i, v in final)
    users = [v for i, v in final if i == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert ("COPY", "migrations ./migrations") in final if "database" in features else True


@combos
def test_api_images_expose_8000_and_probe_healthz(features: tuple[str, ...], render: Render) -> None:
    steps = instructions(render(features, "compose") / "Dockerfile")
    healthchecks = [v for i, v in steps if i == "HEALTHCHECK"]
    exposed = [v for i, v in steps if i == "EXPOSE"]
    command = exec_form([v for i, v in steps if i == "CMD"][-1])
    if "api" in features:
        assert exposed == ["8000"]
        assert len(healthchecks) == 1 and "/healthz" in healthchecks[0]
        assert command == ["python", "-m", "demo", "serve"]
    else:
        assert exposed == [] and healthchecks == []
        assert command == ["python", "-m", "demo", "check"]


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[int, type[_Health]]]:
    handler = type("Handler", (_Health,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_healthcheck_command_passes_and_fails_with_the_app(
    render: Render, health_server: tuple[int, type[_Health]]
) -> None:
    """Run the HEALTHCHECK's own argv (its port pointed at a test server): 0 when /healthz says 200."""
    port, handler = health_server
    steps = instructions(render(("api",), "compose") / "Dockerfile")
    argv = exec_form(next(v for i, v in steps if i == "HEALTHCHECK"))
    assert argv[:2] == ["python", "-c"]

    def probe(target: int) -> int:
        environment = {**os.environ, "PORT": str(target)}  # the port the app was told to use
        done = subprocess.run([sys.executable, "-c", argv[2]], capture_output=True, timeout=30, env=environment)
        return done.returncode

    assert probe(port) == 0
    handler.status = 503
    assert probe(port) != 0
    assert probe(_free_port()) != 0  # nothing listening
