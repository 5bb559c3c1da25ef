"""The generated GitHub Actions workflow: its jobs, real service containers, and actions pinned to commits."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
from container_support import COMBINATIONS, MANAGERS, Render, combo_id, load_yaml, plan_for

from riso import containers

combos = pytest.mark.parametrize("features", COMBINATIONS, ids=combo_id)

# Each pin was read from the action's own repository (the tag's commit), not taken from a third party.
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "cachix/install-nix-action": ("630ae543ea3a38a9a4166f03376c02c50f408342", "v31.11.0"),
}
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)\s*(?:#\s*(?P<comment>\S+))?\s*$")


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job))


@combos
@pytest.mark.parametrize("manager", MANAGERS)
def test_workflow_jobs(features: tuple[str, ...], manager: str, render: Render) -> None:
    workflow = load_yaml(render(features, "compose", manager) / ".github" / "workflows" / "ci.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert {"push", "pull_request"} <= set(triggers)
    assert workflow["permissions"] == {}  # nothing unless a job asks
    jobs = workflow["jobs"]
    for job in jobs.values():
        assert job["permissions"] == {"contents": "read"}
        for step in steps(job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    assert set(jobs) == {"lint", "typecheck", "test", "image", "nix", "security"} | (
        {"secrets"} if "secrets" in features else set()
    )
    assert "ruff check" in runs(jobs["lint"]) and "ruff format --check" in runs(jobs["lint"])
    assert "mypy" in runs(jobs["typecheck"])
    assert "pytest" in runs(jobs["test"])
    # The monitoring tests need promtool and prometheus (alert rules, dashboard expressions).
    installs_prometheus = "apt-get install --yes --no-install-recommends prometheus" in runs(jobs["test"])
    assert installs_prometheus == ("monitoring" in features)
    install = "uv sync --frozen" if manager == "uv" else "poetry install"
    for name in ("lint", "typecheck", "test", "security"):
        # Installed from the committed lock only: nothing unpublished (no riso) reaches the jobs.
        assert install in runs(jobs[name]).splitlines()
        assert "riso" not in runs(jobs[name])
    scans = runs(jobs["security"])
    assert "bandit -c pyproject.toml -r . --severity-level medium" in scans
    assert "detect-secrets-hook --baseline .secrets.baseline" in scans
    assert "pip-audit" in scans and "--strict" in scans
    if manager == "uv":  # the lock itself, exported with its hashes: nothing resolved or installed
        assert "uv export --frozen" in scans and "--disable-pip" in scans
    assert "docker build" in runs(jobs["image"])
    assert "nix flake check" in runs(jobs["nix"])
    assert any(s.get("uses", "").startswith("cachix/install-nix-action@") for s in steps(jobs["nix"]))
    for job in jobs.values():
        assert job.get("timeout-minutes"), "every job has a time limit"
    if "secrets" in features:
        assert "apt-get install --yes --no-install-recommends age" in runs(jobs["test"])  # the real binary
        check = next(s for s in steps(jobs["secrets"]) if "secrets.check" in s.get("run", ""))
        assert check["env"] == {"AGE_KEY": "${{ secrets.AGE_KEY }}"}  # the key only in this step
        assert '[ -z "$AGE_KEY" ]' in check["run"]  # skipped, saying so, without the secret
        assert "${{" not in check["run"]


@combos
def test_service_containers_have_healthchecks(features: tuple[str, ...], render: Render) -> None:
    test_job = load_yaml(render(features, "compose") / ".github" / "workflows" / "ci.yml")["jobs"]["test"]
    services = test_job.get("services") or {}
    pinned = {s.name: s.image for s in containers.expected_services(plan_for(features))}
    for name, service in services.items():
        options = service["options"]
        assert "--health-cmd" in options and "--health-retries" in options, name
        # the same image, pinned by digest, as Compose runs (containers.expected_services)
        assert service["image"] == pinned[name], name
        assert re.fullmatch(r"[a-z/]+:[0-9.]+@sha256:[0-9a-f]{64}", service["image"]), name
    if "database" in features:
        assert services["postgres"]["env"]["POSTGRES_DB"] == "app"
        assert test_job["env"]["DATABASE_URL"].endswith(":5432/app")


@combos
def test_every_action_is_pinned_to_a_commit(features: tuple[str, ...], render: Render) -> None:
    text = (render(features, "compose") / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert lines
    for line in lines:
        found = USES.match(line)
        assert found, f"unparsed: {line}"
        sha, tag = PINS[found["action"]]
        assert found["ref"] == sha, f"{found['action']} is not pinned to {tag}'s commit"
        assert found["comment"] == tag


ZIZMOR = shutil.which("zizmor")


@pytest.mark.skipif(ZIZMOR is None, reason="zizmor is not installed (pip install zizmor)")
@pytest.mark.parametrize("features", [(), ("api", "cache", "database", "monitoring", "secrets")], ids=combo_id)
@pytest.mark.parametrize("manager", MANAGERS)
def test_zizmor_finds_nothing_of_medium_or_high_severity(
    features: tuple[str, ...], manager: str, render: Render
) -> None:
    """GitHub's hardening advice, checked by zizmor's offline audits (template injection,
    credential persistence, permissions, pinning, dangerous triggers, ...)."""
    assert ZIZMOR is not None
    workflows = render(features, "compose", manager) / ".github" / "workflows"
    done = subprocess.run(
        [ZIZMOR, "--offline", "--format", "json", "--min-severity", "medium", str(workflows)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 10, 11, 12, 13, 14), done.stderr  # 1x: findings (listed below)
    findings = json.loads(done.stdout or "[]")
    assert [(f["ident"], f["determinations"]["severity"]) for f in findings] == []


@pytest.mark.parametrize("manager", MANAGERS)
def test_dependabot_updates_the_lock_of_the_projects_manager_grouped(manager: str, render: Render) -> None:
    config = load_yaml(render(("api",), "compose", manager) / ".github" / "dependabot.yml")
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    python = ecosystems["uv" if manager == "uv" else "pip"]  # Dependabot reads poetry.lock as `pip`
    assert len({"uv", "pip"} & set(ecosystems)) == 1
    assert [g["update-types"] for g in python["groups"].values()] == [["minor", "patch"]]
    assert {"github-actions", "docker", "docker-compose", "devcontainers"} <= set(ecosystems)
