"""Running the scanners inside a project's own environment (`uv run --frozen …` or `poetry run …`).

The project's lock installs bandit, detect-secrets and pip-audit (its dev dependencies), so the versions
that run here are the ones its CI runs. gitleaks is not a Python package: it runs when it is on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from riso.errors import RisoError
from riso.scan import parse
from riso.scan.report import ToolResult

TIMEOUT = 900.0  # the first `uv run` installs the environment from the lock
BASELINE = ".secrets.baseline"
# Never scanned: environments, caches and riso's own state (bandit matches these as substrings of paths).
SKIPPED_DIRS = (
    *(".git/", ".venv/", ".riso/", "__pycache__/", ".tox/", ".eggs/", "node_modules/"),
    *(".hypothesis/", ".mypy_cache/", ".ruff_cache/", ".pytest_cache/"),
)
# What a failed request to a vulnerability service looks like in pip-audit's error output.
UNREACHABLE = ("NameResolutionError", "timed out", "Temporary failure", "Max retries exceeded", "ConnectionError")
# How `uv run` / `poetry run` say the command is not in the environment.
NOT_INSTALLED = ("Failed to spawn", "Command not found", "No such file or directory")


@dataclass(frozen=True)
class Project:
    """A project folder, and where its scanners come from: its own environment, or else PATH."""

    root: Path
    manager: str  # "uv" or "poetry": the lock's manager
    own_environment: bool = True  # False: the scanners on PATH (riso's tests and bench, on renders)

    @classmethod
    def at(cls, root: Path) -> Project:
        for manager, lock in (("uv", "uv.lock"), ("poetry", "poetry.lock")):
            if (root / lock).is_file():
                return cls(root, manager)
        raise RisoError(
            f"no uv.lock or poetry.lock in {root}: the scanners run from the project's locked environment",
            "run `uv lock` (or `poetry lock`) in the project first",
        )

    def executable(self) -> str:
        found = shutil.which(self.manager)
        if found is None:
            raise RisoError(f"{self.manager} is not on PATH; the project's environment is made with it")
        return found

    def command(self, *args: str) -> list[str]:
        """`args` run inside the project's environment, installed from its lock and nothing else."""
        if not self.own_environment:
            return list(args)
        if self.manager == "uv":
            return [self.executable(), "run", "--frozen", "--", *args]
        return [self.executable(), "run", *args]

    def run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "POETRY_ACTIVE")}
        try:
            return subprocess.run(
                args, cwd=self.root, capture_output=True, text=True, env=env, timeout=TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise RisoError(f"`{' '.join(args[:4])} …` timed out after {TIMEOUT:.0f}s in {self.root}") from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _missing(tool: str, done: subprocess.CompletedProcess[str]) -> ToolResult | None:
    if done.returncode != 0 and not done.stdout.strip() and any(s in done.stderr for s in NOT_INSTALLED):
        return ToolResult(tool, skipped=f"{tool} is not in the project's environment (add it to the dev dependencies)")
    return None


def _why(stderr: str) -> str:
    """The host and the kind of failure of a request, from a requests/urllib3 error."""
    host = re.search(r"host='([^']+)'", stderr)
    kind = next((k for k in UNREACHABLE if k in stderr), "no answer")
    return f"{host[1]}: {kind}" if host else kind


def bandit(project: Project) -> ToolResult:
    args = ["bandit", "-r", ".", "-f", "json", "-q", "-x", ",".join(SKIPPED_DIRS)]
    if (project.root / "pyproject.toml").is_file():
        args[1:1] = ["-c", "pyproject.toml"]
    done = project.run(project.command(*args))
    missing = _missing("bandit", done)
    if missing is not None:
        return missing
    if not done.stdout.strip():  # `uv run` could not make the environment, or bandit stopped early
        raise RisoError(f"bandit could not run in {project.root}: {_last_line(done.stderr)}")
    return parse.bandit(done.stdout)


def files_to_scan(root: Path) -> list[str]:
    """The files a commit would hold: git's tracked and not-ignored ones, else every file outside caches."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # no git on this machine
        listed = subprocess.CompletedProcess([], 1, "", "")
    if listed.returncode == 0:
        names = [n for n in listed.stdout.split("\0") if n]
    else:
        names = [
            p.relative_to(root).as_posix()
            for p in sorted(root.rglob("*"))
            if p.is_file() and not any(f"/{d}" in f"/{p.relative_to(root).as_posix()}" for d in SKIPPED_DIRS)
        ]
    return [n for n in names if n != BASELINE and (root / n).is_file()]


def detect_secrets(project: Project) -> ToolResult:
    """A rescan against a copy of `.secrets.baseline` (the project's file is never rewritten)."""
    baseline_file = project.root / BASELINE
    files = files_to_scan(project.root)
    with tempfile.TemporaryDirectory(prefix="riso-scan-") as scratch:
        copy = Path(scratch) / BASELINE
        if baseline_file.is_file():
            shutil.copyfile(baseline_file, copy)
            done = project.run(project.command("detect-secrets", "scan", "--baseline", str(copy), *files))
            rescanned_text = copy.read_text(encoding="utf-8") if done.returncode == 0 else ""
        else:
            done = project.run(project.command("detect-secrets", "scan", *files))
            rescanned_text = done.stdout
    missing = _missing("detect-secrets", done)
    if missing is not None:
        return missing
    if done.returncode != 0:
        raise RisoError(f"detect-secrets failed in {project.root}: {_last_line(done.stderr)}")
    baseline = json.loads(baseline_file.read_text(encoding="utf-8")) if baseline_file.is_file() else {}
    result = parse.detect_secrets(baseline, json.loads(rescanned_text))
    if not baseline_file.is_file():
        return ToolResult(result.tool, result.findings, note=f"no {BASELINE}: every secret found is new")
    return result


def gitleaks(project: Project) -> ToolResult:
    """The repository's history too (what detect-secrets does not read), when gitleaks is on PATH."""
    found = shutil.which("gitleaks")
    if found is None:
        return ToolResult("gitleaks", skipped="not on PATH (detect-secrets covers the files)")
    if not (project.root / ".git").exists():
        return ToolResult("gitleaks", skipped="not a git repository (it reads the history)")
    with tempfile.TemporaryDirectory(prefix="riso-scan-") as scratch:
        report = Path(scratch) / "gitleaks.json"
        options = ("--report-format", "json", "--report-path", str(report), "--exit-code", "0", "--no-banner")
        done = project.run([found, "detect", "--source", ".", *options, "--redact"])
        if done.returncode != 0:
            raise RisoError(f"gitleaks failed in {project.root}: {_last_line(done.stderr or done.stdout)}")
        text = report.read_text(encoding="utf-8") if report.is_file() else "[]"
    return parse.gitleaks(text)


def _requirements(project: Project, scratch: Path) -> list[str]:
    """pip-audit's input: the uv lock exported with hashes (nothing resolved or installed), or the
    installed environment for Poetry (whose export needs a plugin)."""
    if project.manager != "uv":
        return ["--skip-editable"]
    exported = project.run(
        [project.executable(), "export", "--frozen", "--format", "requirements-txt", "--no-emit-project", "--quiet"]
    )
    if exported.returncode != 0:
        raise RisoError(f"`uv export` failed in {project.root}: {_last_line(exported.stderr)}")
    requirements = scratch / "requirements.txt"
    requirements.write_text(exported.stdout, encoding="utf-8")
    return ["--requirement", str(requirements), "--disable-pip"]


def pip_audit(project: Project, service: str = "pypi") -> ToolResult:
    with tempfile.TemporaryDirectory(prefix="riso-scan-") as scratch:
        source = _requirements(project, Path(scratch))
        options = ("--format", "json", "--progress-spinner", "off", "--vulnerability-service", service)
        done = project.run(project.command("pip-audit", *source, *options))
    missing = _missing("pip-audit", done)
    if missing is not None:
        return missing
    if not done.stdout.strip().startswith(("{", "[")):
        if any(s in done.stderr for s in UNREACHABLE):
            return ToolResult(
                "pip-audit", skipped=f"the {service} vulnerability service is unreachable ({_why(done.stderr)})"
            )
        raise RisoError(f"pip-audit failed in {project.root}: {_last_line(done.stderr)}")
    return parse.pip_audit(done.stdout, service)
