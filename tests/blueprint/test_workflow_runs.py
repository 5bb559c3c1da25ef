"""The rendered `.github/workflows/ci.yml`, executed rather than parsed.

For each render, the lint, typecheck and test jobs run as GitHub would run them: `actions/checkout` is a
fresh clone of the project's first commit (so everything the jobs need must be committed, uv.lock
included), `actions/setup-python` a fresh virtual environment of the workflow's Python on an otherwise
bare PATH, and every `run:` step goes through `bash -eo pipefail` in order, with only the workflow's and
the job's `env` (plus HOME, CI and caches of downloads) in the environment. The services a job declares
are started as local processes with riso's runner (Postgres 15 and Redis from the machine stand in for
the `postgres:16` and `redis:7` images) and the job's URLs are pointed at their ports.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from blueprint_helpers import GIT_ID, REPO, git

from riso import generate, locking
from riso.features import FEATURES
from riso.testing import local

pytestmark = pytest.mark.slow

JOBS = ("lint", "typecheck", "test", "security")
# Steps that ask a service beyond the package index: pip-audit asks PyPI's JSON API for each locked
# release (`/pypi/NAME/VERSION/json`). Where that answers nothing (here it is 404 for every release),
# the step is left out and the test says so; every other step of the job still runs.
NEEDS_VULNERABILITY_SERVICE = {"pip-audit"}
PROBE = "https://pypi.org/pypi/pip/24.0/json"
SERVICE_OF_IMAGE = {"postgres": "postgres", "redis": "redis"}
BARE_PATH = "/usr/bin:/bin"
# How this machine reaches the package index (its CA bundle, proxies): network settings, not packages.
NETWORK = (
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "PIP_CERT", "PIP_INDEX_URL",
    "UV_INDEX_URL", "UV_DEFAULT_INDEX", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
    "no_proxy",
)  # fmt: skip
STEP_TIMEOUT = 900


def _commit(root: Path) -> None:
    subprocess.run(["git", "-C", str(root), "init", "--quiet"], check=True)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--no-verify", "-m", "first commit")


def _starter(name: str, dest: Path) -> None:
    shutil.copytree(REPO / "templates" / name, dest)
    _commit(dest)


def _render(features: list[str], dest: Path) -> None:
    """What `riso new` commits: the render and its uv.lock."""
    generate.render(dest, {"project_name": "demo", "features": features})
    locking.lock(dest, "uv")
    _commit(dest)


RENDERS = {
    "starter-api": lambda dest: _starter("api", dest),
    "starter-minimal": lambda dest: _starter("minimal", dest),
    "all-features": lambda dest: _render(sorted(FEATURES), dest),
    "no-features": lambda dest: _render([], dest),
}


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Download caches shared by the runs (a runner's tool cache): packages, never environments."""
    base = tmp_path_factory.mktemp("caches")
    return {"UV_CACHE_DIR": str(base / "uv"), "PIP_CACHE_DIR": str(base / "pip")}


def _workflow(project: Path) -> dict[str, Any]:
    data = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _setup_python(version: str, where: Path) -> Path:
    """actions/setup-python: a fresh interpreter of `version` with pip, alone on PATH."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" != version:
        pytest.skip(f"the workflow wants Python {version}; these tests run on {sys.version.split()[0]}")
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    return where / "bin"


def _create_database(url: str, name: str) -> None:
    import asyncpg

    async def create() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())


@pytest.fixture
def services() -> Iterator[dict[str, local.Local]]:
    """The job's services, started with riso's runner; filled in by `_start_services`."""
    started: dict[str, local.Local] = {}
    yield started
    for found in started.values():
        found.stop()


def _start_services(job: dict[str, Any], project: Path, started: dict[str, local.Local]) -> dict[str, str]:
    """Start what `services:` declares; return the job's env with each published port pointed at it."""
    env = {k: str(v) for k, v in (job.get("env") or {}).items()}
    for name, spec in (job.get("services") or {}).items():
        image = str(spec["image"]).split(":")[0]
        kind = SERVICE_OF_IMAGE[image]
        service = local.plan_service(kind, project)
        missing = local.missing_binaries(service)
        assert not missing, f"the {name} service needs {missing} on this machine"
        started[name] = found = local.start(service)
        host, port = re.match(r"^\w+://(?:[^@/]*@)?([^:/]+):(\d+)", found.url).groups()  # type: ignore[union-attr]
        if kind == "postgres" and (spec.get("env") or {}).get("POSTGRES_DB"):
            _create_database(found.url.rsplit("/", 1)[0] + "/postgres", spec["env"]["POSTGRES_DB"])
        for published in spec.get("ports") or []:
            outside = str(published).split(":")[0]
            env = {k: v.replace(f"127.0.0.1:{outside}", f"{host}:{port}") for k, v in env.items()}
    return env


def vulnerability_service_answers() -> bool:
    """Whether PyPI's per-release JSON API, which pip-audit's `pypi` service reads, answers here."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(PROBE, timeout=15) as answer:  # a fixed https URL
            return bool(answer.status == 200)
    except (urllib.error.URLError, TimeoutError, OSError):
        return False


def _run_job(
    project: Path,
    job_name: str,
    work: Path,
    caches: dict[str, str],
    started: dict[str, local.Local],
    leave_out: frozenset[str] = frozenset(),
) -> list[str]:
    workflow = _workflow(project)
    job = workflow["jobs"][job_name]
    checkout = work / job_name / "checkout"
    subprocess.run(["git", *GIT_ID, "clone", "--quiet", str(project), str(checkout)], check=True, timeout=120)
    env: dict[str, str] = {k: str(v) for k, v in (workflow.get("env") or {}).items()}
    python_bin = _setup_python(env["PYTHON_VERSION"], work / job_name / "python")
    home = work / job_name / "home"
    home.mkdir()
    env.update(_start_services(job, checkout, started))
    env.update(caches)
    env.update({k: os.environ[k] for k in NETWORK if k in os.environ})
    # uv passes over interpreters inside virtual environments unless told: point it at setup-python's.
    env["UV_PYTHON"] = str(python_bin / "python")
    env.update({"PATH": f"{python_bin}{os.pathsep}{BARE_PATH}", "HOME": str(home), "CI": "true", "LANG": "C.UTF-8"})
    env.update({"GITHUB_ACTIONS": "true", "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    ran = []
    for step in job["steps"]:
        if "run" not in step:
            assert step["uses"].split("@")[0] in {"actions/checkout", "actions/setup-python"}, step
            continue
        if step.get("name") in leave_out:
            continue
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=checkout,
            env=env,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
        )
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert done.returncode == 0, f"{job_name}: `{step['run']}` failed:\n{output}"
        ran.append(step["run"].strip())
    # What the steps installed is the lock alone: riso is not importable there.
    imports = subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), "-c", "import riso"], env=env, capture_output=True, timeout=60
    )
    assert imports.returncode != 0, f"{job_name}: riso is importable in the project's environment"
    return ran


@pytest.mark.parametrize("render", sorted(RENDERS))
def test_the_generated_workflow_passes_when_run(
    render: str, tmp_path: Path, caches: dict[str, str], services: dict[str, local.Local]
) -> None:
    project = tmp_path / "demo"
    RENDERS[render](project)
    assert "uv.lock" in git(project, "ls-files").split(), "the first commit carries uv.lock"
    leave_out = frozenset() if vulnerability_service_answers() else frozenset(NEEDS_VULNERABILITY_SERVICE)
    extra = [name for name in ("secrets",) if name in _workflow(project)["jobs"]]
    for job_name in (*JOBS, *extra):
        ran = _run_job(project, job_name, tmp_path / "work", caches, services, leave_out)
        assert "uv sync --frozen" in ran, f"{job_name} installs from the committed lock"
        assert not any("riso" in command for command in ran), "nothing unpublished is installed"
        if job_name == "security":  # the scanners ran (and passed) on the committed render
            assert any(c.startswith("uv run --frozen bandit") for c in ran), ran
            assert any("detect-secrets-hook --baseline .secrets.baseline" in c for c in ran), ran
        for found in list(services.values()):
            found.stop()
        services.clear()
