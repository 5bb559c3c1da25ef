"""Compose, devcontainer and the plan agree: same services, ports and environment variables."""

from __future__ import annotations

from typing import Any

import pytest
from container_support import COMBINATIONS, FLAVOURS, Render, combo_id, load_jsonc, load_yaml, plan_for

from riso import containers

combos = pytest.mark.parametrize("features", COMBINATIONS, ids=combo_id)
flavours = pytest.mark.parametrize("flavour", FLAVOURS)

# Set in the workspace container for the tools, not exported by any service.
WORKSPACE_ONLY = {"POETRY_VIRTUALENVS_IN_PROJECT", "UV_LINK_MODE", "HOST", "PORT"}
# The app's port in Compose: PORT from the shell or .env, else 8000 (interpolated by Compose).
APP_PORT = "${PORT:-8000}"
LOCAL_STACK = "${ENVIRONMENT:-local}"


def healthy_dependencies(service: dict[str, Any]) -> set[str]:
    depends = service.get("depends_on") or {}
    return {name for name, rule in depends.items() if rule == {"condition": "service_healthy"}}


def merge_services(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Compose's merge of two files for the keys these files use (services side by side, maps merged)."""
    merged = {name: dict(svc) for name, svc in base.get("services", {}).items()}
    for name, svc in override.get("services", {}).items():
        merged[name] = {**merged.get(name, {}), **svc}
    return merged


def test_expected_services_expand_the_plan_for_the_compose_network() -> None:
    services = {s.name: s for s in containers.expected_services(plan_for(("cache", "database", "monitoring")))}
    assert list(services) == ["postgres", "redis", "prometheus", "grafana"]
    assert services["postgres"].env["DATABASE_URL"] == "postgresql://postgres@postgres:5432/app"
    assert services["postgres"].env["PGPORT"] == "5432"
    assert services["redis"].env == {"REDIS_URL": "redis://redis:6379/0"}
    assert services["grafana"].env == {"GRAFANA_URL": "http://grafana:3000"}
    assert all("{" not in value for s in services.values() for value in s.env.values())


@combos
@flavours
def test_root_compose_runs_the_plans_services(features: tuple[str, ...], flavour: str, render: Render) -> None:
    the_plan = plan_for(features)
    expected = {s.name: s for s in containers.expected_services(the_plan)}
    compose = load_yaml(render(features, flavour) / "docker-compose.yml")
    services = compose["services"]
    helpers = {"app"} | ({"migrate"} if "database" in features else set())
    helpers |= {"worker"} if "tasks" in features else set()
    assert set(services) == helpers | set(expected)
    for name, want in expected.items():
        svc = services[name]
        assert svc["image"] == want.image
        assert svc["healthcheck"]["test"][0] == "CMD"
        assert any(v.startswith(f"{name}-data:") for v in svc["volumes"]), "named volume"
    assert set(compose.get("volumes") or {}) == {f"{name}-data" for name in expected}
    app = services["app"]
    environment = dict(app.get("environment", {}))
    # The image defaults to production (Dockerfile); the Compose stack is a local one.
    assert environment.pop("ENVIRONMENT") == LOCAL_STACK
    if "api" in features:
        assert environment.pop("PORT") == APP_PORT
        assert app["ports"] == [f"127.0.0.1:{APP_PORT}:{APP_PORT}"]
    assert environment == containers.expected_env(the_plan)
    assert healthy_dependencies(app) == set(expected)
    assert ("ports" in app) == ("api" in features)
    if "tasks" in features:
        worker = services["worker"]
        assert worker["command"] == ["python", "-m", "demo", "worker"]
        assert worker["environment"] == {"ENVIRONMENT": LOCAL_STACK, **containers.expected_env(the_plan)}
        assert healthy_dependencies(worker) == set(expected) - {"prometheus", "grafana"}
    for config_ref in (c["source"] for svc in services.values() for c in svc.get("configs", [])):
        assert config_ref in compose["configs"]


@combos
def test_devcontainer_compose_workspace_sees_every_service(features: tuple[str, ...], render: Render) -> None:
    the_plan = plan_for(features)
    folder = render(features, "compose")
    devcontainer = load_jsonc(folder / ".devcontainer" / "devcontainer.json")
    root, override = load_yaml(folder / "docker-compose.yml"), load_yaml(folder / ".devcontainer" / "compose.yml")
    merged = merge_services(root, override)
    names = [s.name for s in the_plan.services]

    assert devcontainer["service"] == "workspace"
    assert devcontainer["runServices"] == ["workspace", *names]
    assert all(name in merged for name in devcontainer["runServices"])
    workspace = merged["workspace"]
    env = workspace["environment"]
    assert {k: v for k, v in env.items() if k not in WORKSPACE_ONLY} == containers.expected_env(the_plan)
    assert healthy_dependencies(workspace) == set(names)
    assert workspace["volumes"][0].startswith(".:/workspaces/demo")
    assert devcontainer["workspaceFolder"] == "/workspaces/demo"
    # The official Python-and-Postgres template's networking: the workspace joins the first service's
    # network namespace, so that service and the app are on localhost and forwarded ports work in Codespaces.
    if names:
        assert override["services"]["workspace"]["network_mode"] == f"service:{names[0]}"
        assert "ports" not in workspace
    else:
        assert "network_mode" not in workspace
    # Prometheus scrapes the app where it runs during development: the workspace, on that namespace,
    # on the port the app is given (PORT).
    if "api" in features:
        assert env["PORT"] == APP_PORT
    if "monitoring" in features and "api" in features:
        assert f"{names[0]}:{APP_PORT}'" in override["configs"]["prometheus-config"]["content"]
        assert f"app:{APP_PORT}'" in root["configs"]["prometheus-config"]["content"]
    elif "monitoring" in features:
        assert "app:" not in root["configs"]["prometheus-config"]["content"]


@combos
@flavours
def test_forwarded_ports_and_labels_match_the_plan(features: tuple[str, ...], flavour: str, render: Render) -> None:
    expected = containers.expected_services(plan_for(features))
    devcontainer = load_jsonc(render(features, flavour) / ".devcontainer" / "devcontainer.json")
    forwards = devcontainer.get("forwardPorts", [])
    attributes = devcontainer.get("portsAttributes", {})
    app = [containers.APP_PORT] if "api" in features else []
    labels = {attrs["label"] for attrs in attributes.values()}
    assert labels == {s.label for s in expected} | ({"App"} if "api" in features else set())
    if flavour == "compose":
        # The service whose network the workspace shares is on localhost: a plain port, as the official template.
        assert forwards == [*app, *(s.port if i == 0 else f"{s.name}:{s.port}" for i, s in enumerate(expected))]
        assert {key: attrs["label"] for key, attrs in attributes.items() if key != "8000"} == {
            str(s.port): s.label for s in expected
        }
    else:
        # riso allocates the services' ports inside the container: they are labelled by their process.
        assert forwards == app
        assert not any(key.isdigit() for key in attributes if key != "8000")


@combos
def test_ci_services_use_the_plans_variable_names(features: tuple[str, ...], render: Render) -> None:
    the_plan = plan_for(features)
    env_names = set(containers.expected_env(the_plan))
    test_job = load_yaml(render(features, "compose") / ".github" / "workflows" / "ci.yml")["jobs"]["test"]
    services = set(test_job.get("services") or {})
    planned = {s.name for s in the_plan.services}
    assert services == planned & {"postgres", "redis"}  # cache and tasks both bring Redis
    assert set(test_job.get("env") or {}) <= env_names
    assert {"DATABASE_URL"} <= set(test_job.get("env") or {}) or "postgres" not in planned
    assert {"REDIS_URL"} <= set(test_job.get("env") or {}) or "redis" not in planned


@combos
@flavours
def test_lifecycle_installs_then_starts_the_services(features: tuple[str, ...], flavour: str, render: Render) -> None:
    folder = render(features, flavour)
    devcontainer = load_jsonc(folder / ".devcontainer" / "devcontainer.json")
    assert devcontainer["waitFor"] == "postStartCommand"
    assert devcontainer["postCreateCommand"].endswith("bash .devcontainer/post-create.sh")
    post_create = (folder / ".devcontainer" / "post-create.sh").read_text(encoding="utf-8")
    assert "uv sync --frozen" in post_create.splitlines()
    commands = [line for line in post_create.splitlines() if not line.lstrip().startswith("#")]
    assert not any("riso" in line for line in commands), "the project installs without riso"
    poetry = (render(features, flavour, "poetry") / ".devcontainer" / "post-create.sh").read_text(encoding="utf-8")
    assert "poetry install --no-interaction" in poetry.splitlines()
    extensions = set(devcontainer["customizations"]["vscode"]["extensions"])
    assert {"ms-python.python", "ms-python.vscode-pylance", "charliermarsh.ruff", "ms-python.mypy-type-checker"} <= (
        extensions
    )
    if flavour == "nix":
        assert devcontainer["onCreateCommand"] == "nix develop --command true"
        assert devcontainer["postCreateCommand"].startswith("nix develop --command ")
        assert devcontainer["postStartCommand"] == "nix develop --command riso up -d"
        assert {"target": "/nix", "type": "volume", "source": "nix-store-${devcontainerId}"} in devcontainer["mounts"]
        assert "jnoortheen.nix-ide" in extensions
        settings = devcontainer["customizations"]["vscode"]["settings"]
        profile = settings["terminal.integrated.profiles.linux"][settings["terminal.integrated.defaultProfile.linux"]]
        assert profile["path"] == "nix" and profile["args"][0] == "develop"
    else:
        start = (folder / ".devcontainer" / "post-start.sh").read_text(encoding="utf-8")
        for svc in containers.expected_services(plan_for(features)):
            assert f"wait_for {svc.name} {svc.name} {svc.port}" in start
