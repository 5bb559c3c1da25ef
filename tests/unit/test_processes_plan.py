"""Processes in the plan: the default app, [tool.riso.processes] over it, and one-line errors."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from riso import config, plan
from riso.errors import ConfigError
from riso.plan_model import Plan


def built(features: list[str], extra: str = "", name: str = "my-shop") -> Plan:
    text = f'[project]\nname = "{name}"\n[tool.riso]\nfeatures = {json.dumps(features)}\n{extra}'
    return plan.build(config.parse(tomllib.loads(text)))


def processes(features: list[str], extra: str = "") -> dict[str, Any]:
    return {p.name: p for p in built(features, extra).processes}


def test_the_api_feature_brings_the_app_on_the_prometheus_app_port() -> None:
    app = processes(["api", "cache", "database", "monitoring"])["app"]
    assert app.command == [
        "uvicorn",
        "my_shop.main:create_app",
        "--factory",
        "--reload",
        "--reload-dir",
        "{root}/src",
        "--host",
        "{host}",
        "--port",
        "{port}",
    ]
    assert app.depends_on == ["postgres", "redis"]  # not the services that watch it
    assert app.port == 8000 and app.exports == {"APP_URL": "http://{host}:{port}"}
    assert app.readiness.type == "http" and app.readiness.path == "/healthz"
    assert (app.restart, app.max_restarts, app.working_dir) == ("on-failure", 5, "{root}")
    moved = processes(["api", "monitoring"], "[tool.riso.services.prometheus]\napp_port = 8081\n")["app"]
    assert moved.port == 8081 and moved.depends_on == []


def scrape_target(the_plan: Plan) -> str:
    content = the_plan.service("prometheus").files[0].content
    return content.split("job_name: my-shop", 1)[1].split("targets: ['", 1)[1].split("'", 1)[0]


def test_prometheus_scrapes_the_app_process_wherever_it_listens() -> None:
    assert scrape_target(built(["api", "monitoring"])) == "{host}:{port:app}"
    moved = "[tool.riso.processes.app]\nport = 0\n"  # allocated: the runner fills in its port
    assert scrape_target(built(["api", "monitoring"], moved)) == "{host}:{port:app}"
    # Without the app process (the app runs elsewhere), app_port says where it listens.
    elsewhere = "[tool.riso.processes.app]\nenable = false\n[tool.riso.services.prometheus]\napp_port = 8081\n"
    assert scrape_target(built(["api", "monitoring"], elsewhere)) == "{host}:8081"


def test_the_tasks_feature_brings_the_worker() -> None:
    worker = processes(["database", "monitoring", "tasks"])["worker"]
    assert worker.command == ["python", "-m", "my_shop", "worker"]
    assert worker.depends_on == ["postgres", "redis"]  # what it connects to, not what watches
    assert (worker.restart, worker.port, worker.readiness.type) == ("on-failure", None, "none")
    assert sorted(processes(["api", "tasks"])) == ["app", "worker"]
    assert "worker" not in processes(["api", "cache"])
    assert built(["tasks"], "[tool.riso.processes.worker]\nenable = false\n").processes == []


def test_no_api_no_app_and_enable_false_removes_it() -> None:
    assert built(["cache"]).processes == []
    assert built(["api"], "[tool.riso.processes.app]\nenable = false\n").processes == []


def test_keys_replace_the_defaults_and_tables_merge_key_by_key() -> None:
    extra = """
[tool.riso.processes.app]
command = "python -m my_shop serve --port {port} --host '{host}'"
port = 0
env = { LOG_LEVEL = "debug" }
exports = { DOCS_URL = "http://{host}:{port}/docs" }
readiness = { type = "command", command = "curl -fs http://{host}:{port}/readyz" }
"""
    app = processes(["api"], extra)["app"]
    assert app.command == ["python", "-m", "my_shop", "serve", "--port", "{port}", "--host", "{host}"]
    assert app.port == 0 and app.env == {"LOG_LEVEL": "debug"}
    assert app.exports == {"APP_URL": "http://{host}:{port}", "DOCS_URL": "http://{host}:{port}/docs"}
    assert app.readiness.type == "command" and app.readiness.path is None
    assert app.readiness.argv == ["curl", "-fs", "http://{host}:{port}/readyz"]
    timeout_only = processes(["api"], '[tool.riso.processes.app]\nreadiness = { type = "http", timeout = 5 }\n')
    assert timeout_only["app"].readiness.path == "/healthz" and timeout_only["app"].readiness.timeout == 5


def test_a_declared_process_with_its_defaults_in_name_order() -> None:
    extra = """
[tool.riso.processes.worker]
command = ["python", "-m", "shop.worker"]
depends_on = ["redis", "beat"]

[tool.riso.processes.beat]
command = 'python -c "print(1)"'
restart = "always"
"""
    found = built(["cache"], extra).processes
    assert [p.name for p in found] == ["beat", "worker"]
    beat, worker = found
    assert beat.command == ["python", "-c", "print(1)"] and beat.restart == "always"
    assert worker.port is None and worker.readiness.type == "none" and worker.depends_on == ["redis", "beat"]
    assert (worker.restart, worker.max_restarts, worker.backoff, worker.stop_signal) == (
        "on-failure",
        5,
        1.0,
        "SIGTERM",
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[tool.riso.processes.web]\ncommand = "serve {port}"\n', "[tool.riso.processes.web] has no port"),
        ('[tool.riso.processes.web]\ncommand = "x"\nreadiness = { type = "http" }\n', "its readiness is http"),
        ('[tool.riso.processes.web]\ncommand = "x"\ndepends_on = ["postgres"]\n', "'postgres' is not a service"),
        ('[tool.riso.processes.web]\ncommand = "x"\ndepends_on = ["web"]\n', "'web' is itself"),
        ('[tool.riso.processes.redis]\ncommand = "x"\n', "'redis' is the name of a service"),
        ("[tool.riso.processes.web]\nport = 0\n", "[tool.riso.processes.web] has no command"),
        ('[tool.riso.processes.web]\ncommand = "x \'y"\n', "processes.web.command: cannot split"),
        ('[tool.riso.processes.web]\ncommand = "  "\n', "processes.web.command: command is empty"),
        ('[tool.riso.processes.Web]\ncommand = "x"\n', "process name 'Web'"),
        ('[tool.riso.processes.web]\ncommand = "x"\nrestart = "sometimes"\n', "processes.web.restart"),
        ('[tool.riso.processes.web]\ncommand = "x"\nreadiness = { type = "command" }\n', 'needs command = "..."'),
        ('[tool.riso.processes.web]\ncommand = "x"\nport = 0\nreadiness = { type = "http", path = "x" }\n', "'/'"),
        ('[tool.riso.processes.web]\ncommand = "x"\nsize = 3\n', "processes.web.size"),
    ],
)
def test_a_bad_process_table_is_one_line_naming_it(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        built(["cache"], table)
    text = str(caught.value)
    assert message in text and "\n" not in text, text


def test_the_plan_round_trips_with_processes() -> None:
    original = built(["api", "cache"], '[tool.riso.processes.job]\ncommand = "python job.py"\n')
    again = Plan.model_validate_json(plan.to_json(original))
    assert again == original and again.process("job").command == ["python", "job.py"]
    older = original.model_dump()
    del older["processes"]  # a plan written before processes existed
    assert Plan.model_validate(older).processes == []
