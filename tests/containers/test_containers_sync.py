"""`riso devcontainer` on a rendered project: switches flavour, follows features, touches nothing else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from container_support import load_jsonc, load_yaml
from copier import run_copy
from dockerfile_parse import DockerfileParser
from pathspec import PathSpec

from riso import blueprint_store, containers, locking

_BESIDE_PYTHON = Path(sys.executable).with_name("riso")  # not a version manager's shim: it starts faster
RISO = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.is_file() else shutil.which("riso") or "riso"
USER_FILES = {
    "notes.md": b"my notes\n",
    ".github/workflows/release.yml": b"name: release\non: workflow_dispatch\njobs: {}\n",
    ".devcontainer/README.md": b"team notes about the container\n",
}


def riso(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([RISO, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_one_line_error(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode != 0, done.stdout
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for needle in needles:
        assert needle in lines[0]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole blueprint rendered once (api + database, compose flavour), as `riso new` would."""
    dest = tmp_path_factory.mktemp("rendered") / "demo"
    data = {"project_name": "demo", "features": ["api", "database"], "devcontainer_flavour": "compose"}
    run_copy(
        str(blueprint_store.installed_blueprint()),
        dest,
        data=data,
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
        vcs_ref=None,
    )
    return dest


@pytest.fixture(scope="module")
def locked(rendered: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The render with its uv.lock, as `riso new` commits it (resolved against the package index)."""
    dest = tmp_path_factory.mktemp("locked") / "demo"
    shutil.copytree(rendered, dest)
    locking.lock(dest, "uv")
    return dest


@pytest.fixture
def project(rendered: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "demo"
    shutil.copytree(rendered, dest)
    for rel, content in USER_FILES.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(content)
    return dest


def test_a_fresh_render_is_in_sync(project: Path) -> None:
    done = riso("devcontainer", "--check", cwd=project / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "up to date (flavour compose)" in done.stdout


def test_switching_flavour_rewrites_only_the_container_files(project: Path) -> None:
    before = snapshot(project)
    done = riso("devcontainer", "--flavour", "nix", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "removed .devcontainer/compose.yml" in done.stdout
    assert "created .devcontainer/devshell.bashrc" in done.stdout
    assert "set [tool.riso.devcontainer] flavour = 'nix'" in done.stdout
    after = snapshot(project)

    manifest = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert manifest["tool"]["riso"]["devcontainer"] == {"flavour": "nix"}
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["devcontainer_flavour"] == "nix"
    devcontainer = load_jsonc(project / ".devcontainer" / "devcontainer.json")
    assert devcontainer["postStartCommand"] == "nix develop --command riso up -d"
    assert {".devcontainer/compose.yml", ".devcontainer/post-start.sh"} <= set(before) - set(after)
    assert set(after) - set(before) == {".devcontainer/devshell.bashrc"}

    # Outside the container paths only the manifest's flavour line and Copier's record changed.
    outside = {rel for rel in before if rel.split("/")[0] not in containers.CONTAINER_PATHS}
    changed = {rel for rel in outside if before[rel] != after.get(rel)}
    assert changed == {"pyproject.toml", ".copier-answers.yml"}
    diff = set(before["pyproject.toml"].splitlines()) ^ set(after["pyproject.toml"].splitlines())
    assert diff == {b'flavour = "compose"', b'flavour = "nix"'}
    for rel, content in USER_FILES.items():
        assert after[rel] == content

    back = riso("devcontainer", "--flavour", "compose", cwd=project)
    assert back.returncode == 0, back.stderr
    assert snapshot(project) == before  # a round trip restores every byte


def test_check_reports_drift_and_a_plain_run_repairs_it(project: Path) -> None:
    dockerfile = project / "Dockerfile"
    original = dockerfile.read_bytes()
    dockerfile.write_bytes(original + b"RUN echo local edit\n")
    done = riso("devcontainer", "--check", cwd=project)
    assert done.returncode == 1
    assert "would update Dockerfile" in done.stdout
    assert dockerfile.read_bytes() != original  # --check writes nothing
    assert riso("devcontainer", cwd=project).returncode == 0
    assert dockerfile.read_bytes() == original


def test_the_security_job_and_dependabot_come_back_with_the_container_files(project: Path) -> None:
    """`riso devcontainer` renders .github/ from the blueprint: the scan job and Dependabot included."""
    workflow = project / ".github" / "workflows" / "ci.yml"
    jobs = load_yaml(workflow)["jobs"]
    assert "security" in jobs
    del jobs["security"]
    workflow.write_text(yaml.safe_dump({"name": "ci", "jobs": jobs}), encoding="utf-8")
    (project / ".github" / "dependabot.yml").unlink()
    assert riso("devcontainer", cwd=project).returncode == 0
    assert "bandit" in str(load_yaml(workflow)["jobs"]["security"]["steps"])
    assert (project / ".github" / "dependabot.yml").is_file()


def test_container_files_follow_the_features_in_the_manifest(project: Path) -> None:
    manifest = project / "pyproject.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('features = ["api", "database"]', 'features = ["api", "cache", "database"]'))
    result = containers.sync(project)
    assert {"docker-compose.yml", ".devcontainer/compose.yml", ".github/workflows/ci.yml"} <= set(result.changed)
    assert "redis" in load_yaml(project / "docker-compose.yml")["services"]
    assert "redis" in load_yaml(project / ".github" / "workflows" / "ci.yml")["jobs"]["test"]["services"]
    assert load_jsonc(project / ".devcontainer" / "devcontainer.json")["runServices"] == [
        "workspace",
        "postgres",
        "redis",
    ]


@pytest.mark.slow
def test_the_images_commands_exist_in_the_rendered_package(rendered: Path, tmp_path: Path) -> None:
    """The Dockerfile runs `python -m demo serve` (api) / `check`: the package, installed with its own
    dependencies into an environment of its own (as the image's builder does), must offer both."""
    uv = shutil.which("uv")
    assert uv, "uv is installed with riso's test dependencies (.ci/run, scripts/setup)"
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    for argv in (
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(rendered)],
    ):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "demo", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "serve" in done.stdout and "check" in done.stdout
    assert (rendered / "alembic.ini").is_file() and (rendered / "migrations").is_dir()


def test_an_unknown_flavour_is_one_line_and_changes_nothing(project: Path) -> None:
    before = snapshot(project)
    assert_one_line_error(riso("devcontainer", "--flavour", "podman", cwd=project), "'podman'", "compose, nix")
    assert snapshot(project) == before


def test_outside_a_project_and_with_a_bad_manifest(project: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_line_error(riso("devcontainer", cwd=empty), "no pyproject.toml")
    manifest = project / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace('features = ["api", "database"]', 'features = ["api", "queue"]'))
    before = snapshot(project)
    assert_one_line_error(riso("devcontainer", "--flavour", "nix", cwd=project), "features", "'queue'")
    assert snapshot(project) == before


@pytest.mark.slow
def test_everything_the_dockerfile_copies_is_in_the_build_context(locked: Path) -> None:
    rendered = locked
    ignored = PathSpec.from_lines("gitignore", (rendered / ".dockerignore").read_text().splitlines())
    parser = DockerfileParser(path=str(rendered / "Dockerfile"))
    sources = [
        source
        for step in parser.structure
        if step["instruction"] == "COPY" and not step["value"].startswith("--from")
        for source in step["value"].split()[:-1]
    ]
    assert {"pyproject.toml", "uv.lock", "README.md", "src", "alembic.ini", "migrations"} <= set(sources)
    for source in sources:
        matches = list(rendered.glob(source))
        assert matches or source.endswith("*"), f"{source} is not in the project"
        for match in matches:
            assert not ignored.match_file(match.relative_to(rendered).as_posix()), f"{source} is in .dockerignore"


@pytest.mark.slow
def test_riso_add_keeps_the_switched_flavour(tmp_path: Path) -> None:
    """`riso add` (a Copier update) after `riso devcontainer --flavour nix` renders nix files that are in sync."""
    env = {**os.environ, "RISO_BLUEPRINT_STORE": str(tmp_path / "store")}
    git = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.invalid"]

    def run(*argv: str, cwd: Path) -> str:
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    project = tmp_path / "demo"
    run(RISO, "new", str(project), "--template", "minimal", cwd=tmp_path)
    run(RISO, "devcontainer", "--flavour", "nix", cwd=project)
    run(*git, "add", "--all", cwd=project)
    run(*git, "commit", "--quiet", "-m", "nix devcontainer", cwd=project)
    run(RISO, "add", "database", cwd=project)

    assert "<<<<<<<" not in (project / ".devcontainer" / "devcontainer.json").read_text()
    assert "up to date (flavour nix)" in run(RISO, "devcontainer", "--check", cwd=project)
    devcontainer = load_jsonc(project / ".devcontainer" / "devcontainer.json")
    assert [a["label"] for a in devcontainer["portsAttributes"].values()] == ["App", "Postgres"]
