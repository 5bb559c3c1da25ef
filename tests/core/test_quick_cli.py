"""The everyday commands print the same bytes and exit the same way on both paths.

`riso` answers `env`, `status`, `up -d` and `plan --json` itself (riso.cli.quick); the same
commands through the Typer app (riso.cli.services, riso.cli.plan) are the reference. Each case runs
both, against real Postgres and Redis where services are involved, with colour forced on so the
`error:` / `warning:` styling is compared too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from core_support import Result, needs_postgres, needs_redis, riso, write_project

# The Typer app exactly as `riso` ran it before the quick path existed.
_TYPER = "import sys; sys.argv[0] = 'riso'; from riso.cli import _typer_app; raise SystemExit(_typer_app())"
COLOUR = {"FORCE_COLOR": "1", "NO_COLOR": ""}


def typer_path(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    full_env = {k: v for k, v in os.environ.items() if k != "RISO_PLAN"}
    full_env.update({"COLUMNS": "200", **(env or {})})
    done = subprocess.run(
        [sys.executable, "-c", _TYPER, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
    )
    return Result(done.returncode, done.stdout, done.stderr)


def same(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    quick = riso(*args, cwd=cwd, env=env)
    reference = typer_path(*args, cwd=cwd, env=env)
    assert (quick.code, quick.stdout, quick.stderr) == (reference.code, reference.stdout, reference.stderr), args
    return quick


EVERYDAY = [["env"], ["env", "--dotenv"], ["status"], ["status", "--json"], ["plan", "--json"], ["up", "-d"]]


@pytest.mark.parametrize("args", EVERYDAY)
def test_outside_a_project(args: list[str], tmp_path: Path) -> None:
    shown = same(*args, cwd=tmp_path, env=COLOUR)
    assert shown.code == 2
    assert shown.stderr.startswith("\x1b[31merror:\x1b[0m no pyproject.toml in ")


def test_a_bad_manifest(tmp_path: Path) -> None:
    write_project(tmp_path, ["database", "telepathy"])
    for args in EVERYDAY:
        shown = same(*args, cwd=tmp_path)
        assert shown.code == 2
        assert "unknown feature 'telepathy'" in shown.stderr


def test_a_project_that_never_ran(tmp_path: Path) -> None:
    write_project(tmp_path, ["database", "cache", "monitoring"])
    for args in (["plan", "--json"], ["status"], ["status", "--json"], ["env"], ["env", "--dotenv"]):
        same(*args, cwd=tmp_path)
    assert "plan-cache.json" in os.listdir(tmp_path / ".riso" / "run")  # the later calls read the cache
    for args in (["plan", "--json"], ["status"], ["env"]):
        same(*args, cwd=tmp_path)


def test_a_missing_binary_and_an_unknown_service(tmp_path: Path) -> None:
    # grafana: absent here, and named as such by both paths; with RISO_PLAN a binary that is not there
    write_project(tmp_path, ["monitoring"])
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(riso("plan", "--json", cwd=tmp_path).stdout.replace("prometheus", "prometheus-nowhere"))
    env = {**COLOUR, "RISO_PLAN": str(plan_file)}
    shown = same("up", "-d", "nosuch", cwd=tmp_path, env=env)
    assert shown.code == 1
    assert "unknown service 'nosuch'" in shown.stderr
    shown = same("up", "-d", "prometheus-nowhere", cwd=tmp_path, env=env)
    assert shown.code == 1
    assert "not found" in shown.stderr


@needs_postgres
@needs_redis
def test_a_running_project(folder: Path) -> None:
    write_project(folder, ["database", "cache"])
    started = riso("up", "-d", cwd=folder)
    assert started.code == 0
    assert started.stdout.startswith("ready: postgres (port ")
    for args in (*EVERYDAY, ["up", "-d", "redis"], ["up", "--allow-missing", "-d"]):
        shown = same(*args, cwd=folder, env=COLOUR)
        assert shown.code == 0, shown.output
    assert same("up", "-d", cwd=folder).stdout == "already running: postgres, redis; nothing changed\n"

    # a warm start on each path prints the same report (the ports are remembered)
    assert riso("down", cwd=folder).code == 0
    quick = riso("up", "-d", cwd=folder)
    assert riso("down", cwd=folder).code == 0
    reference = typer_path("up", "-d", cwd=folder)
    assert (quick.code, quick.stdout, quick.stderr) == (reference.code, reference.stdout, reference.stderr)

    # a crashed server: both say so, in red, and exit 1
    redis_pid = int(next(line for line in riso("status", cwd=folder).stdout.splitlines() if "redis" in line).split()[3])
    os.kill(redis_pid, signal.SIGKILL)
    shown = same("status", cwd=folder, env=COLOUR)
    assert shown.code == 1
    assert "\x1b[31merror:\x1b[0m redis is crashed" in shown.stderr
    same("status", "--json", cwd=folder)


def test_help_and_usage_errors_are_typer_s(tmp_path: Path) -> None:
    for args in (["status", "--help"], ["env", "--bogus"], ["up", "-d", "--"], ["up", "-x"], ["plan"], []):
        same(*args, cwd=tmp_path)
    assert "Usage: riso status [OPTIONS]" in riso("status", "--help", cwd=tmp_path).stdout
