"""Helpers for the runner's tests: projects in temp folders, the `riso` CLI in a subprocess, pid checks.

Every test that starts services stops them (`riso down --volumes`) in its teardown, and checks by
pid that nothing of the project is left. Test modules import these from `core_support` (a name no
other test folder uses), not from `conftest`: several folders have a conftest.py, and which one
`import conftest` finds depends on how pytest was invoked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from riso import config, plan
from riso.plan_model import Plan
from riso.runner import Runner, process
from riso.runner.state import Layout, StateError, read_pid, recorded_services

# The console script next to this interpreter (a version manager's shim would add its own startup).
_SCRIPT = Path(sys.executable).with_name("riso")
RISO = str(_SCRIPT) if _SCRIPT.exists() else (shutil.which("riso") or "riso")

POSTGRES_BIN = shutil.which("postgres") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))), None)
needs_postgres = pytest.mark.skipif(POSTGRES_BIN is None, reason="no Postgres server binaries on this machine")
needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
needs_prometheus = pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus not installed")


def manifest(features: list[str], extra: str = "", name: str = "demo") -> str:
    listed = ", ".join(f'"{f}"' for f in features)
    return f'[project]\nname = "{name}"\nversion = "0.1.0"\n\n[tool.riso]\nfeatures = [{listed}]\n{extra}'


def write_project(folder: Path, features: list[str], extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(manifest(features, extra), encoding="utf-8")
    return folder


def build_plan(features: list[str], extra: str = "") -> Plan:
    import tomllib

    return plan.build(config.parse(tomllib.loads(manifest(features, extra))))


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def riso(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    prefix: list[str] | None = None,
) -> Result:
    """Run the `riso` CLI; `prefix` runs it through another command (setpriv as another user)."""
    full_env = {k: v for k, v in os.environ.items() if k != "RISO_PLAN"}
    full_env.update({"COLUMNS": "200", **(env or {})})
    done = subprocess.run(
        [*(prefix or []), RISO, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def project_pids(root: Path) -> list[int]:
    """Every live process of the project: each recorded service and its session's members."""
    layout = Layout(root)
    pids: list[int] = []
    for name in recorded_services(layout):
        try:
            record = read_pid(layout, name)
        except StateError:
            continue
        if record is not None:
            pids += list(process.family(record.pid, record.start_time))
    return pids


def alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if process.start_time(pid) is not None]


def open_folder(prefix: str) -> Path:
    """A temp folder every user can traverse (pytest's own tmp_path is mode 700 when run as root)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def stop_project(root: Path) -> None:
    """Teardown: `riso down --volumes` (falls back to the library), then nothing may be left."""
    pids = project_pids(root)
    if (root / "pyproject.toml").exists():
        riso("down", "--volumes", cwd=root)
    left = alive(pids)
    for pid in left:
        os.kill(pid, 9)
    assert not left, f"processes {left} of {root} survived `riso down`"


def redis_runner(root: Path, extra: str = "") -> Runner:
    write_project(root, ["cache"], extra)
    return Runner(build_plan(["cache"], extra), root)
