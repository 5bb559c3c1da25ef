"""`riso doctor`: binaries found and their versions, ports, the health of `.riso/`."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from riso.errors import RisoError
from riso.runner import RUNNING, Runner, port_free, process
from riso.runner.runner import INIT_PREFIX
from riso.runner.state import (
    OWNER_FILE,
    PidRecord,
    read_intent,
    read_owner,
    read_pid,
    read_ports,
    read_process,
    read_status,
    read_up,
    recorded_processes,
    recorded_services,
)

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    level: str  # ok | warn | fail
    subject: str
    detail: str
    hint: str | None = None


def _version(path: str) -> str | None:
    try:
        done = subprocess.run([path, "--version"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).decode(errors="replace").strip().splitlines()
    return lines[0].strip() if lines else None


def _major(version: str | None) -> str | None:
    found = re.search(r"(\d+)(?:\.\d+)?", version or "")
    return found.group(1) if found else None


def _binaries(runner: Runner) -> list[Check]:
    from riso.services import INSTALL_HINTS

    checks = []
    for svc in runner.plan.services:
        missing = runner.missing_binary(svc)
        if missing is not None:
            hint = INSTALL_HINTS.get(svc.name, "install it, or use `nix develop`")
            checks.append(Check(FAIL, svc.name, f"binary {missing!r} not found", hint))
            continue
        main = next(iter(svc.binaries.values()), None)
        version = _version(main) if main else None
        checks.append(Check(OK, svc.name, f"{main} ({version or 'version unknown'})"))
    for proc in runner.plan.processes:
        program = runner.missing_program(proc)
        if program is not None:
            hint = "install the project's environment (e.g. `uv sync`), or `riso up --services-only`"
            checks.append(Check(FAIL, proc.name, f"command {program!r} not found in .venv/bin or on PATH", hint))
        else:
            checks.append(Check(OK, proc.name, f"process: {' '.join(proc.command)}"))
    return checks


def _service_state(runner: Runner, name: str) -> tuple[str, PidRecord | None]:
    if not runner.layout.run.is_dir():
        return "stopped", None
    try:
        return runner.state_of(name)
    except RisoError:  # reported by the state checks
        return "stopped", None


def _ports(runner: Runner) -> list[Check]:
    checks = []
    remembered = read_ports(runner.layout) if runner.layout.ports_file.exists() else {}
    for svc in runner.plan.services:
        state, record = _service_state(runner, svc.name)
        if state == RUNNING and record is not None:
            checks.append(Check(OK, f"{svc.name} port", f"{record.port} (in use by {svc.name}, pid {record.pid})"))
            continue
        port = svc.port or remembered.get(svc.name)
        if port is None:
            checks.append(Check(OK, f"{svc.name} port", "allocated on first `riso up`"))
        elif port_free(port):
            checks.append(Check(OK, f"{svc.name} port", f"{port} free"))
        elif svc.port:
            hint = f"stop what listens there, or set port = 0 under [tool.riso.services.{svc.name}]"
            checks.append(Check(FAIL, f"{svc.name} port", f"fixed port {port} is in use by another process", hint))
        else:
            checks.append(Check(WARN, f"{svc.name} port", f"{port} is taken; `riso up` will allocate another"))
    return checks


def _interrupted(runner: Runner) -> list[Check]:
    """Starts that were killed: an init folder left beside a data dir, a start record left behind."""
    checks = []
    for svc in runner.plan.services:
        data_dir = runner.data_dir(svc)
        parent = Path(process.real(data_dir)).parent
        partial = sorted(parent.glob(f".{data_dir.name}{INIT_PREFIX}*")) if parent.is_dir() else []
        try:
            intent = read_intent(runner.layout, svc.name) if runner.layout.run.is_dir() else None
        except RisoError as problem:
            checks.append(Check(FAIL, f"{svc.name} data", problem.message, problem.hint))
            continue
        running = _service_state(runner, svc.name)[0] == RUNNING
        if partial:
            hint = "`riso up` removes it and initialises again"
            checks.append(Check(FAIL, f"{svc.name} data", f"an interrupted init left {partial[0]}", hint))
        elif intent is not None and not running:
            hint = "`riso up` checks the data and finishes the setup"
            checks.append(Check(WARN, f"{svc.name} data", "its last start was interrupted", hint))
    return checks


def _owner(runner: Runner, data_dir: Path) -> Check | None:
    try:
        owner = read_owner(data_dir)
    except RisoError as problem:
        return Check(FAIL, "data owner", problem.message, problem.hint)
    if owner is None:
        return Check(WARN, "data owner", f"{data_dir} has no {OWNER_FILE} marker", "`riso up` writes it")
    if owner.project != str(runner.root) and not process.real(data_dir).startswith(str(runner.root) + "/"):
        hint = f"riso will not touch it; remove the link {data_dir} to start this project with empty data"
        return Check(FAIL, "data owner", f"{data_dir} belongs to project {owner.project}", hint)
    return None


def _postgres_data(runner: Runner) -> list[Check]:
    checks = []
    for svc in runner.plan.services:
        if svc.readiness.type != "postgres":
            continue
        data_dir = runner.data_dir(svc)
        marker = data_dir / "PG_VERSION"
        if not data_dir.exists():
            checks.append(Check(OK, f"{svc.name} data", "not created yet (initdb on first `riso up`)"))
        elif not marker.is_file():
            checks.append(Check(FAIL, f"{svc.name} data", f"{data_dir} is not a Postgres cluster (no PG_VERSION)"))
        elif not (data_dir / "global" / "pg_control").is_file():
            hint = "an init was interrupted or files were removed; move it away, then `riso up`"
            checks.append(Check(FAIL, f"{svc.name} data", f"{data_dir} is not a complete Postgres cluster", hint))
        elif (problem := _owner(runner, data_dir)) is not None and problem.level == FAIL:
            checks.append(replace(problem, subject=f"{svc.name} data"))
        else:
            on_disk = marker.read_text(encoding="utf-8").strip()
            server = svc.binaries.get("postgres")
            binary = _major(_version(server)) if server else None
            if binary and binary != on_disk:
                detail = f"{data_dir} was created by Postgres {on_disk}, the binary is Postgres {binary}"
                hint = f'set version = "{on_disk}" under [tool.riso.services.{svc.name}], or dump and re-create it'
                checks.append(Check(FAIL, f"{svc.name} data", detail, hint))
            else:
                where = f" -> {data_dir.resolve()}" if data_dir.is_symlink() else ""
                checks.append(Check(OK, f"{svc.name} data", f"Postgres {on_disk} cluster in {data_dir}{where}"))
    return checks


def _state(runner: Runner) -> list[Check]:
    checks = []
    readers: list[tuple[str, Callable[[], object]]] = [
        ("ports.json", lambda: read_ports(runner.layout)),
        ("up.json", lambda: read_up(runner.layout)),
    ]
    readers += [(f"{n}.pid", functools.partial(read_pid, runner.layout, n)) for n in recorded_services(runner.layout)]
    for name in recorded_processes(runner.layout):
        readers += [
            (f"{name}.process", functools.partial(read_process, runner.layout, name)),
            (f"{name}.status", functools.partial(read_status, runner.layout, name)),
        ]
    for what, read in readers:
        try:
            read()
        except RisoError as problem:
            checks.append(Check(FAIL, "state", problem.message, problem.hint))
        else:
            checks.append(Check(OK, "state", f".riso/run/{what} readable"))
    for status in runner.status(probe=False):
        if status.state == "restarting":
            detail = f"restarting (restarts so far: {status.restarts})"
            checks.append(Check(WARN, status.name, detail, f"`riso logs {status.name}` shows why"))
        elif status.state not in (RUNNING, "stopped", "missing"):
            checks.append(Check(FAIL, status.name, status.state, "`riso logs` shows why; `riso up` restarts it"))
    return checks


def _privileges() -> list[Check]:
    if not process.is_root():
        return [Check(OK, "user", f"uid {os.geteuid()}: services run as you")]
    try:
        user = process.service_user(create=False)
    except RisoError as problem:
        return [Check(FAIL, "user", problem.message, problem.hint)]
    if user.name != process.SERVICE_USER and shutil.which("useradd"):
        return [Check(OK, "user", f"root: Postgres will run as {process.SERVICE_USER} (created on first `riso up`)")]
    return [Check(OK, "user", f"root: Postgres runs as {user.name} (uid {user.uid})")]


def run(runner: Runner) -> list[Check]:
    """Every check, in the order they are shown."""
    checks = _binaries(runner) + _privileges() + _ports(runner) + _postgres_data(runner) + _interrupted(runner)
    if runner.layout.run.is_dir():
        checks += _state(runner)
    return checks
