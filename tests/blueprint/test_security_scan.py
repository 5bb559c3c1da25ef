"""Security scanning of the renders: bandit and detect-secrets find nothing that fails, and `riso scan` works.

The scanners are riso's own test dependencies, the same versions the renders lock (bandit, detect-secrets,
pip-audit); `riso scan` itself runs them from a starter's locked environment.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from blueprint_helpers import REPO, assert_one_line_error, git, run_riso

from riso import generate
from riso.features import FEATURES
from riso.scan import run

RENDERS = {"all-features": sorted(FEATURES), "no-features": []}
LEAK = 'TOKEN = "ghp_' + "Zq3" * 12 + '"\n'  # shaped like a GitHub token, made up here


@pytest.fixture(scope="module", params=sorted(RENDERS))
def rendered(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("scan") / "demo"
    generate.render(dest, {"project_name": "demo", "features": RENDERS[request.param]})
    return dest


def _here(root: Path) -> run.Project:
    return run.Project(root, "uv", own_environment=False)


def test_bandit_finds_nothing_of_medium_or_high_severity(rendered: Path) -> None:
    result = run.bandit(_here(rendered))
    assert result.skipped is None and not result.note
    assert [(f.where, f.what) for f in result.at_least("medium")] == []


def test_detect_secrets_finds_nothing_and_the_baseline_accepts_nothing(rendered: Path) -> None:
    baseline = json.loads((rendered / run.BASELINE).read_text(encoding="utf-8"))
    assert baseline["results"] == {}, "the committed baseline lists no secret"
    result = run.detect_secrets(_here(rendered))
    assert [(f.where, f.what) for f in result.findings] == []


def test_a_new_secret_and_a_shell_call_are_found(rendered: Path, tmp_path: Path) -> None:
    project = tmp_path / "demo"
    shutil.copytree(rendered, project)
    leak = project / "src" / "demo" / "leak.py"
    leak.write_text(LEAK + "import subprocess\n\n\ndef run(line: str) -> None:\n    subprocess.run(line, shell=True)\n")
    secrets = run.detect_secrets(_here(project))
    assert {(f.severity, f.where) for f in secrets.findings} == {("high", "src/demo/leak.py:1")}
    issues = run.bandit(_here(project)).at_least("high")
    assert [(f.where, f.what.split()[0]) for f in issues] == [("src/demo/leak.py:6", "B602")]


def test_the_ci_hook_fails_on_a_new_secret_only(rendered: Path, tmp_path: Path) -> None:
    """The workflow's step, `detect-secrets-hook --baseline .secrets.baseline <files>`, on the render."""
    import subprocess
    import sys

    hook = str(Path(sys.executable).with_name("detect-secrets-hook"))
    project = tmp_path / "demo"
    shutil.copytree(rendered, project)
    files = [*run.files_to_scan(project), run.BASELINE]
    clean = subprocess.run([hook, "--baseline", run.BASELINE, *files], cwd=project, capture_output=True, timeout=300)
    assert clean.returncode == 0, clean.stdout
    (project / "leak.py").write_text(LEAK)
    found = subprocess.run(
        [hook, "--baseline", run.BASELINE, *files, "leak.py"], cwd=project, capture_output=True, timeout=300
    )
    assert found.returncode != 0 and b"GitHub Token" in found.stdout


@pytest.mark.slow
def test_riso_scan_on_a_starter_runs_every_tool_in_its_environment(tmp_path: Path) -> None:
    project = tmp_path / "minimal"
    shutil.copytree(REPO / "templates" / "minimal", project)
    subprocess_env = {"COLUMNS": "200", "NO_COLOR": "1"}
    git(project, "init", "--quiet")
    done = run_riso("scan", cwd=project, env=subprocess_env, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") > 2}
    assert {"bandit", "detect-secrets", "gitleaks", "pip-audit"} <= set(rows), done.stdout
    assert "passes" in rows["bandit"] and "passes" in rows["detect-secrets"]
    # pip-audit either audited the lock or says in its row why it could not.
    assert "passes" in rows["pip-audit"] or "skipped: the pypi vulnerability service" in rows["pip-audit"]
    assert (project / ".venv" / "bin" / "bandit").is_file(), "the tools came from the project's own lock"

    (project / "src" / "minimal_leak.py").write_text(LEAK)
    found = run_riso("scan", cwd=project, env=subprocess_env, timeout=900)
    assert found.returncode == 1
    assert "detect-secrets: high src/minimal_leak.py:1 GitHub Token" in found.stdout


def test_riso_scan_without_a_lock_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n', encoding="utf-8")
    assert_one_line_error(run_riso("scan", cwd=tmp_path), "no uv.lock or poetry.lock")
    assert_one_line_error(run_riso("scan", "--fail-on", "severe", cwd=tmp_path), "--fail-on")
