"""riso's modules under lib.evalModules (needs RISO_NIXPKGS_LIB): parity, types, priorities."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import FEATURES, REPO, eval_expr, manifest, nix_json, run_nix

pytestmark = pytest.mark.nix

COMBINATIONS = [tuple(f for i, f in enumerate(FEATURES) if mask >> i & 1) for mask in range(2 ** len(FEATURES))]

# Service tables exercising every manifest key the Python side knows.
SERVICE_TABLES = """
[tool.riso.services.postgres]
version = "16"
port = 5433
initial_databases = [{ name = "app", schemas = ["app", "audit"] }, { name = "audit" }]
initial_script = { before = "CREATE ROLE reader", after = "GRANT CONNECT ON DATABASE app TO reader" }
extensions = ["pg_trgm"]
listen_addresses = ""
socket_dir = "{state}/sockets"
data_dir = "{state}/pg"
hba_conf = "local all all trust\\n"
initdb_args = ["--username=postgres", "--auth=trust", "--encoding=UTF8"]
settings = { max_connections = 50, fsync = false, shared_buffers = "64MB" }

[tool.riso.services.postgres.instances.analytics]
version = "15"
port = 5434
initial_databases = [{ name = "events", schemas = ["raw"] }]
extensions = ["pg_trgm"]
settings = { max_connections = 20 }

[tool.riso.services.postgres.instances.spare]
enable = false

[tool.riso.services.redis]
settings = { maxmemory = "64mb", databases = 4 }

[tool.riso.services.prometheus]
scrape_interval = "10s"
app_port = 8080
settings = { "storage.tsdb.retention.time" = "2d" }

[tool.riso.services.grafana]
admin_password = "s3cret"
settings = { users = { default_theme = "light" }, server = { root_url = "http://localhost/g/" } }
"""


# Process tables exercising every manifest key: the default app changed key by key, a process of
# the project's own with a string command (quotes and escapes split like a shell), one removed.
PROCESS_TABLES = r"""
[tool.riso.processes.app]
command = "uvicorn 'demo.main:create_app' --factory --port {port} --log-level \"debug\""
env = { LOG_LEVEL = "debug" }
exports = { DOCS_URL = "http://{host}:{port}/docs" }
readiness = { type = "http", timeout = 45 }
restart = "always"
max_restarts = 3
backoff = 0.5
port = 0
stop_signal = "SIGINT"
stop_timeout = 4
working_dir = "{root}/src"

[tool.riso.processes.worker]
command = ["python", "-m", "demo.worker", "--queue", "{port:web}"]
depends_on = ["web"]
readiness = { type = "command", command = "sh -c 'test -e {run}/worker.ready'" }
restart = "no"

[tool.riso.processes.web]
command = "python -m http.server {port} --bind {host} --directory 'a dir\\x'"
port = 0
readiness = { type = "http", path = "/index.html" }

[tool.riso.processes.gone]
enable = false
command = "true"
"""


def nix_plan(lib: Path, project: Path, modules: str = "[ ]") -> Any:
    body = f"(evalProject {{ inherit pkgs; src = {project}; modules = {modules}; }}).config.riso.plan"
    return nix_json("eval", "--impure", "--expr", eval_expr(lib, body))


def assert_parity(compare_plans: ModuleType, project: Path, fake_bin: Path, lib: Path) -> None:
    python = compare_plans.python_plan(project, fake_bin)
    nix = nix_plan(lib, project)
    diffs = compare_plans.differences(compare_plans.normalise(python), compare_plans.normalise(nix, python))
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("features", COMBINATIONS, ids=lambda c: ",".join(c) or "none")
def test_plan_parity_with_defaults(
    features: tuple[str, ...], project_dir: Path, fake_bin: Path, nixpkgs_lib: Path, compare_plans: ModuleType
) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(features))
    assert_parity(compare_plans, project_dir, fake_bin, nixpkgs_lib)


@pytest.mark.parametrize("features", COMBINATIONS, ids=lambda c: ",".join(c) or "none")
def test_plan_parity_with_every_service_setting(
    features: tuple[str, ...], project_dir: Path, fake_bin: Path, nixpkgs_lib: Path, compare_plans: ModuleType
) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(features, SERVICE_TABLES))
    assert_parity(compare_plans, project_dir, fake_bin, nixpkgs_lib)


@pytest.mark.parametrize(
    "features", [(), ("api",), ("api", "cache", "database", "monitoring"), ("api", "monitoring", "tasks")], ids=str
)
def test_plan_parity_with_every_process_setting(
    features: tuple[str, ...], project_dir: Path, fake_bin: Path, nixpkgs_lib: Path, compare_plans: ModuleType
) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(features, SERVICE_TABLES + PROCESS_TABLES))
    assert_parity(compare_plans, project_dir, fake_bin, nixpkgs_lib)
    processes = {p["name"]: p for p in nix_plan(nixpkgs_lib, project_dir)["processes"]}
    assert sorted(processes) == ["app", "web", "worker"]
    assert processes["web"]["command"][-2:] == ["--directory", "a dir\\x"]
    assert processes["worker"]["readiness"]["argv"] == ["sh", "-c", "test -e {run}/worker.ready"]


def test_the_default_app_follows_the_features_and_can_be_removed(
    project_dir: Path, fake_bin: Path, nixpkgs_lib: Path, compare_plans: ModuleType
) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(("api", "cache", "monitoring")))
    app = nix_plan(nixpkgs_lib, project_dir)["processes"][0]
    assert app["command"][:2] == ["uvicorn", "demo.main:create_app"]
    assert app["depends_on"] == ["redis"] and app["port"] == 8000
    assert app["exports"] == {"APP_URL": "http://{host}:{port}"}
    removed = "[tool.riso.processes.app]\nenable = false\n"
    (project_dir / "pyproject.toml").write_text(manifest(("api",), removed))
    assert_parity(compare_plans, project_dir, fake_bin, nixpkgs_lib)
    assert nix_plan(nixpkgs_lib, project_dir)["processes"] == []
    module = '[ { processes.app.port = 9000; processes.job.command = "python job.py"; } ]'
    (project_dir / "pyproject.toml").write_text(manifest(("api",)))
    plan = nix_plan(nixpkgs_lib, project_dir, module)
    assert [(p["name"], p["port"]) for p in plan["processes"]] == [("app", 9000), ("job", None)]
    assert plan["processes"][1]["command"] == ["python", "job.py"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[tool.riso.processes.web]\ncommand = "x {port}"\n', "has no port, but it uses {port}"),
        ('[tool.riso.processes.web]\ncommand = "x"\ndepends_on = ["nosuch"]\n', "'nosuch' is not a service"),
        ('[tool.riso.processes.web]\ncommand = "x \'y"\n', "cannot split"),
        ('[tool.riso.processes.web]\ncommand = "x"\nsize = 3\n', "[tool.riso.processes.web] has unknown key 'size'"),
    ],
    ids=["port", "depends_on", "quote", "unknown-key"],
)
def test_a_bad_process_table_fails_on_both_sides(
    table: str, message: str, project_dir: Path, fake_bin: Path, nixpkgs_lib: Path, compare_plans: ModuleType
) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(("cache",), table))
    body = f"(evalProject {{ inherit pkgs; src = {project_dir}; }}).config.riso.plan"
    done = run_nix("eval", "--impure", "--json", "--expr", eval_expr(nixpkgs_lib, body), check=False)
    assert done.returncode != 0 and message in done.stderr, done.stderr[-1500:]
    with pytest.raises(RuntimeError):
        compare_plans.python_plan(project_dir, fake_bin)


def test_parity_when_the_manifest_switches_services(
    project_dir: Path, fake_bin: Path, nixpkgs_lib: Path, compare_plans: ModuleType
) -> None:
    extra = "[tool.riso.services.redis]\nenable = false\n[tool.riso.services.grafana]\nenable = true\n"
    (project_dir / "pyproject.toml").write_text(manifest(("cache", "database"), extra))
    assert_parity(compare_plans, project_dir, fake_bin, nixpkgs_lib)
    names = [s["name"] for s in nix_plan(nixpkgs_lib, project_dir)["services"]]
    assert names == ["postgres", "grafana"]


def test_the_plan_has_store_paths_as_binaries(project_dir: Path, nixpkgs_lib: Path) -> None:
    (project_dir / "pyproject.toml").write_text(
        manifest(("database",), '[tool.riso.services.postgres]\nversion = "16"\n')
    )
    postgres = nix_plan(nixpkgs_lib, project_dir)["services"][0]
    assert postgres["package"] == "postgresql_16"
    for name, path in postgres["binaries"].items():
        assert path.startswith("/nix/store/") and path.endswith(f"-postgresql-16.11/bin/{name}")


def test_wrong_option_type_fails_naming_the_option(project_dir: Path, nixpkgs_lib: Path) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(("database",)))
    wrong = '[ { services.postgres.port = "abc"; } ]'
    body = f"(evalProject {{ inherit pkgs; src = {project_dir}; modules = {wrong}; }}).config.riso.plan"
    done = run_nix("eval", "--impure", "--json", "--expr", eval_expr(nixpkgs_lib, body), check=False)
    assert done.returncode != 0
    assert "The option `services.postgres.port'" in done.stderr or "option `services.postgres.port'" in done.stderr
    assert "is not of type" in done.stderr and '"abc"' in done.stderr


def test_wrong_type_in_the_manifest_fails_naming_the_option(project_dir: Path, nixpkgs_lib: Path) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(("cache",), '[tool.riso.services.redis]\nport = "6379"\n'))
    body = f"(evalProject {{ inherit pkgs; src = {project_dir}; }}).config.riso.plan"
    done = run_nix("eval", "--impure", "--json", "--expr", eval_expr(nixpkgs_lib, body), check=False)
    assert done.returncode != 0 and "services.redis.port" in done.stderr


def test_user_module_beats_manifest_and_default(project_dir: Path, nixpkgs_lib: Path) -> None:
    extra = "[tool.riso.services.postgres]\nport = 5432\n"
    (project_dir / "pyproject.toml").write_text(manifest(("database", "cache"), extra))
    plan = nix_plan(nixpkgs_lib, project_dir, "[ { services.postgres.port = 6000; services.redis.port = 6001; } ]")
    ports = {s["name"]: s["port"] for s in plan["services"]}
    assert ports == {"postgres": 6000, "redis": 6001}
    assert nix_plan(nixpkgs_lib, project_dir)["services"][0]["port"] == 5432


def test_user_module_can_turn_off_a_feature_service(project_dir: Path, nixpkgs_lib: Path) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(("monitoring",)))
    plan = nix_plan(nixpkgs_lib, project_dir, "[ { services.grafana.enable = false; } ]")
    assert [s["name"] for s in plan["services"]] == ["prometheus"]


def test_unknown_manifest_key_is_named(project_dir: Path, nixpkgs_lib: Path) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(("database",), "[tool.riso.services.postgres]\nsize = 3\n"))
    body = f"(evalProject {{ inherit pkgs; src = {project_dir}; }}).config.riso.plan"
    done = run_nix("eval", "--impure", "--json", "--expr", eval_expr(nixpkgs_lib, body), check=False)
    assert done.returncode != 0
    assert "[tool.riso.services.postgres] has unknown key 'size'" in done.stderr


def test_a_feature_without_its_requirement_is_refused(project_dir: Path, nixpkgs_lib: Path) -> None:
    """The Nix modules keep features.py's `requires` (auth needs api and database), as riso does."""
    (project_dir / "pyproject.toml").write_text(manifest(("auth", "database")))
    body = f"(evalProject {{ inherit pkgs; src = {project_dir}; }}).config.riso.plan"
    done = run_nix("eval", "--impure", "--json", "--expr", eval_expr(nixpkgs_lib, body), check=False)
    assert done.returncode != 0
    assert "riso: feature 'auth' requires 'api'; add 'api' or leave out 'auth'" in done.stderr
    (project_dir / "pyproject.toml").write_text(manifest(("api", "auth", "database")))
    done = run_nix("eval", "--impure", "--json", "--expr", eval_expr(nixpkgs_lib, body), check=False)
    assert done.returncode == 0, done.stderr


def test_module_evaluation_tests_pass(nixpkgs_lib: Path) -> None:
    body = f"import {REPO}/checks/module-tests.nix {{ inherit lib pkgs; }}"
    assert nix_json("eval", "--impure", "--expr", eval_expr(nixpkgs_lib, body)) == []


def test_module_evaluation_tests_catch_a_wrong_expectation(nixpkgs_lib: Path) -> None:
    body = """lib.runTests {
      testPort = {
        expr = (evalProject { inherit pkgs; modules = [ { riso.pyproject.tool.riso.features = [ "cache" ]; } ]; })
          .config.riso.plan.services;
        expected = [ ];
      };
    }"""
    failures = nix_json("eval", "--impure", "--expr", eval_expr(nixpkgs_lib, body))
    assert [f["name"] for f in failures] == ["testPort"]


def test_devcontainer_option_tree_follows_the_manifest(project_dir: Path, nixpkgs_lib: Path) -> None:
    extra = '[tool.riso.devcontainer]\nflavour = "nix"\n[tool.riso.services.postgres]\nport = 5432\n'
    (project_dir / "pyproject.toml").write_text(manifest(("api", "database"), extra))
    body = f"(evalProject {{ inherit pkgs; src = {project_dir}; }}).config.riso.devcontainer.settings"
    settings = nix_json("eval", "--impure", "--expr", eval_expr(nixpkgs_lib, body))
    assert settings["forwardPorts"] == [8000, 5432]
    assert settings["portsAttributes"]["5432"] == {"label": "postgres"}
    assert settings["postStartCommand"] == "nix develop --command riso up -d"


def test_postgres_instances_are_services_of_their_own(project_dir: Path, nixpkgs_lib: Path) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(("database",), SERVICE_TABLES))
    plan = nix_plan(nixpkgs_lib, project_dir)
    names = [s["name"] for s in plan["services"]]
    assert names == ["postgres", "postgres-analytics"]
    analytics = plan["services"][1]
    assert analytics["data_dir"] == "{state}/postgres-analytics"
    assert analytics["env"] == {"DATABASE_URL_ANALYTICS": "postgresql://postgres@{host}:{port}/events"}
    assert analytics["package"] == "postgresql_15" and analytics["port"] == 5434


@pytest.mark.parametrize(
    ("features", "modules", "tools"),
    [
        ((), "[ ]", ["ruff"]),
        (("secrets",), "[ ]", ["ruff", "age"]),
        (("api", "secrets"), "[ ({ pkgs, ... }: { riso.python.tools = [ pkgs.uv ]; }) ]", ["uv"]),
    ],
    ids=["default", "secrets", "own-tools"],
)
def test_the_secrets_feature_puts_age_in_the_dev_shell(
    features: tuple[str, ...], modules: str, tools: list[str], project_dir: Path, nixpkgs_lib: Path
) -> None:
    (project_dir / "pyproject.toml").write_text(manifest(features))
    project = f"(evalProject {{ inherit pkgs; src = {project_dir}; modules = {modules}; }})"
    body = f"map (p: p.pname) {project}.config.riso.python.tools"
    assert nix_json("eval", "--impure", "--expr", eval_expr(nixpkgs_lib, body)) == tools
