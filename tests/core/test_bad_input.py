"""Bad input through the CLI: one clear line naming problem and fix, non-zero exit, no traceback,
no data removed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_support import (
    Result,
    build_plan,
    needs_postgres,
    needs_redis,
    riso,
    write_project,
)

from riso import plan as plan_mod
from riso.runner import process


def one_line_error(result: Result, *fragments: str) -> str:
    assert result.code != 0, result.output
    assert "Traceback" not in result.output
    lines = result.error_lines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: ")
    for fragment in fragments:
        assert fragment in line, line
    return line


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_unknown_feature(folder: Path) -> None:
    write_project(folder, ["database", "databse"])
    one_line_error(riso("up", "-d", cwd=folder), "unknown feature 'databse'", "known:")


def test_wrong_type_names_the_key(folder: Path) -> None:
    write_project(folder, ["cache"], '[tool.riso.services.redis]\nport = "high"\n')
    one_line_error(riso("up", "-d", cwd=folder), "services.redis.port")


def test_no_pyproject(folder: Path) -> None:
    one_line_error(riso("up", "-d", cwd=folder), "no pyproject.toml", "riso new")
    one_line_error(riso("status", cwd=folder), "no pyproject.toml")


def test_unknown_service_name(folder: Path) -> None:
    write_project(folder, ["cache"])
    one_line_error(riso("up", "-d", "mysql", cwd=folder), "unknown service 'mysql'", "redis")


def test_missing_riso_plan_file(folder: Path) -> None:
    write_project(folder, ["cache"])
    result = riso("up", "-d", cwd=folder, env={"RISO_PLAN": str(folder / "nope.json")})
    one_line_error(result, "nope.json", "does not exist")


@needs_redis
def test_busy_fixed_port_names_port_service_and_fix(folder: Path, listener: int) -> None:
    write_project(folder, ["cache"], f"[tool.riso.services.redis]\nport = {listener}\n")
    line = one_line_error(riso("up", "-d", cwd=folder), f"port {listener}", "redis", "in use", "port = 0")
    assert "[tool.riso.services.redis]" in line
    assert list(folder.glob(".riso/run/*.pid")) == []


def test_missing_binary_is_named_with_the_install_hint(folder: Path) -> None:
    write_project(folder, ["cache"])
    the_plan = build_plan(["cache"])
    the_plan.services[0].binaries["redis-server"] = None
    plan_file = folder / "plan.json"
    plan_file.write_text(plan_mod.to_json(the_plan))
    result = riso("up", "-d", cwd=folder, env={"RISO_PLAN": str(plan_file)})
    one_line_error(result, "redis", "'redis-server' not found", "apt-get install redis-server", "--allow-missing")
    skipped = riso("up", "-d", "--allow-missing", cwd=folder, env={"RISO_PLAN": str(plan_file)})
    assert skipped.code == 0, skipped.output
    assert "warning: skipping redis" in skipped.stderr
    status = riso("status", cwd=folder, env={"RISO_PLAN": str(plan_file)})
    assert status.code == 0 and "missing" in status.stdout


def test_garbage_ports_file(folder: Path) -> None:
    write_project(folder, ["cache"])
    ports = folder / ".riso/run/ports.json"
    ports.parent.mkdir(parents=True)
    ports.write_text("{garbage")
    one_line_error(riso("up", "-d", cwd=folder), ".riso/run/ports.json", "not valid JSON", "delete")
    one_line_error(riso("env", cwd=folder), "ports.json")
    assert ports.read_text() == "{garbage"


def test_garbage_pid_file(folder: Path) -> None:
    write_project(folder, ["cache"])
    pid_file = folder / ".riso/run/redis.pid"
    pid_file.parent.mkdir(parents=True)
    pid_file.write_text("12345 oops")
    one_line_error(riso("status", cwd=folder), ".riso/run/redis.pid", "delete")
    one_line_error(riso("up", "-d", cwd=folder), ".riso/run/redis.pid")
    one_line_error(riso("down", cwd=folder), ".riso/run/redis.pid")
    assert pid_file.read_text() == "12345 oops"


def dead_pid() -> tuple[int, int]:
    proc = subprocess.Popen(["sleep", "0"])
    started = process.start_time(proc.pid) or 1
    proc.wait()
    return proc.pid, started


def stale_record(folder: Path, pid: int, started: int) -> None:
    run = folder / ".riso/run"
    run.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "start_time": started, "port": 1, "data_dir": str(folder / ".riso/state/redis")}
    (run / "redis.pid").write_text(json.dumps(record))
    (run / "up.json").write_text('["redis"]')


@needs_redis
@pytest.mark.parametrize("recycled", [False, True], ids=["dead-pid", "recycled-pid"])
def test_stale_pid_file_is_reported_then_recovered(folder: Path, recycled: bool) -> None:
    write_project(folder, ["cache"])
    # A recycled pid: this very test process, with another start time. It must never be signalled.
    pid, started = (os.getpid(), (process.start_time(os.getpid()) or 0) + 1) if recycled else dead_pid()
    stale_record(folder, pid, started)
    status = riso("status", cwd=folder)
    one_line_error(status, "redis is crashed", "riso up")
    up = riso("up", "-d", cwd=folder)
    assert up.code == 0, up.output
    assert "ready: redis" in up.stdout
    assert riso("status", cwd=folder).code == 0
    assert process.start_time(os.getpid()) is not None  # still here


@needs_postgres
@pytest.mark.parametrize("junk", ["notes.txt", "base"], ids=["file", "folder"])
def test_corrupt_postgres_data_dir_is_named_and_kept(folder: Path, junk: str) -> None:
    write_project(folder, ["database"])
    data = folder / ".riso/state/postgres"
    data.mkdir(parents=True)
    (data / junk).mkdir() if junk == "base" else (data / junk).write_text("precious")
    line = one_line_error(riso("up", "-d", cwd=folder), "postgres", ".riso/state/postgres", "not a Postgres cluster")
    assert "never deletes" in line
    assert (data / junk).exists()
    assert list(folder.glob(".riso/run/*.pid")) == []
    doctor = riso("doctor", cwd=folder)
    assert doctor.code == 1 and "not a Postgres cluster" in doctor.stdout


def test_data_dir_that_is_a_file(folder: Path) -> None:
    write_project(folder, ["cache"])
    data = folder / ".riso/state/redis"
    data.parent.mkdir(parents=True)
    data.write_text("not a folder")
    one_line_error(riso("up", "-d", cwd=folder), ".riso/state/redis", "not a directory")
    assert data.read_text() == "not a folder"
