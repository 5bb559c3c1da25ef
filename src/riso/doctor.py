"""`riso doctor`: binaries found and their versions, ports, the health of `.riso/`."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from riso.errors import RisoError
from riso.runner import RUNNING, Runner, port_free, process
from riso.runner.state import read_pid, read_ports, read_up, recorded_services

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
    return checks


def _ports(runner: Runner) -> list[Check]:
    checks = []
    remembered = read_ports(runner.layout) if runner.layout.ports_file.exists() else {}
    for svc in runner.plan.services:
        record = read_pid(runner.layout, svc.name)
        if record is not None and process.is_running(record.pid, record.start_time):
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
    for what, read in readers:
        try:
            read()
        except RisoError as problem:
            checks.append(Check(FAIL, "state", problem.message, problem.hint))
        else:
            checks.append(Check(OK, "state", f".riso/run/{what} readable"))
    for status in runner.status(probe=False):
        if status.state not in (RUNNING, "stopped", "missing"):
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
    checks = _binaries(runner) + _privileges() + _ports(runner) + _postgres_data(runner)
    if runner.layout.run.is_dir():
        checks += _state(runner)
    return checks
