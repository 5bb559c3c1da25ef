"""The project's own processes (the app, workers, what `[tool.riso.processes]` declares).

Each runs under a supervisor of its own (riso.runner.supervise), started by `riso up` in a new
session and working in `.riso/state/<name>`; the supervisor starts the program, restarts it per
its policy and stops it with its whole process group. The runner records the supervisor in
`.riso/run/<name>.process` (pid, start time, interpreter, working folder, port) and reads what the
supervisor reports in `.riso/run/<name>.status` (state, restarts, the program's pid).

Identity is checked as for services (docs/runner.md): a supervisor is this project's only when its
pid is alive with the recorded start time, `/proc/<pid>/exe` is the recorded interpreter and
`/proc/<pid>/cwd` is this project's `.riso/state/<name>`. A record from a copied project folder
names the original's folder and is ignored; a recycled pid fails the start time. Without a record,
a supervisor is found by that folder, its interpreter and its command line.

Programs are looked up in the project's `.venv/bin` first, then on PATH; they run with the
caller's environment, `.venv/bin` first on PATH (and VIRTUAL_ENV) when the project has one, every
export of `riso env`, then the process's own `env`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from riso.errors import RisoError
from riso.runner import probes, process
from riso.runner.logs import tail
from riso.runner.placeholders import HOST, Context
from riso.runner.state import (
    Layout,
    ProcessRecord,
    ProcessStatus,
    StateError,
    read_process,
    read_status,
    remove_process,
    write_process,
)

if TYPE_CHECKING:
    from riso.plan_model import Process

SUPERVISOR = Path(__file__).with_name("supervise.py")
VENV = ".venv"
SETTLE = 0.5  # seconds a process without a readiness check must run before it counts as started
COMMAND_PROBE_TIMEOUT = 5.0

RUNNING, STOPPED, CRASHED, MISSING, RESTARTING = "running", "stopped", "crashed", "missing", "restarting"


@dataclass
class Launch:
    """A process about to start: its expanded command, environment and folder."""

    proc: Process
    ctx: Context
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int | None


@dataclass(frozen=True)
class Found:
    """A process's state, its supervisor's record and what the supervisor last reported."""

    state: str
    record: ProcessRecord | None = None
    status: ProcessStatus | None = None

    @property
    def pid(self) -> int | None:
        """The program's pid (not the supervisor's) while it runs."""
        if self.state == RUNNING and self.status is not None:
            return self.status.child
        return None

    @property
    def restarts(self) -> int:
        return self.status.restarts if self.status is not None else 0


def venv_bin(root: Path) -> Path:
    return root / VENV / "bin"


def search_path(root: Path) -> str:
    """Where programs are looked up: the project's .venv/bin, then PATH."""
    return os.pathsep.join([str(venv_bin(root)), os.environ.get("PATH", process.DEFAULT_PATH)])


def resolve(program: str, root: Path, cwd: Path) -> str | None:
    """The program's path: relative to `cwd` when it holds a '/', else from .venv/bin or PATH."""
    if "/" in program:
        path = Path(cwd, program)
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(program, path=search_path(root))


def environment(root: Path, exports: dict[str, str], own: dict[str, str]) -> dict[str, str]:
    """What a process runs with: the caller's environment, the project's venv, the exports, its env."""
    env = dict(os.environ)
    env.pop("RISO_PLAN", None)  # the plan is riso's business, not the app's
    if venv_bin(root).is_dir():
        env["VIRTUAL_ENV"] = str(root / VENV)
        env["PATH"] = f"{venv_bin(root)}{os.pathsep}{env.get('PATH', process.DEFAULT_PATH)}"
        env.pop("PYTHONHOME", None)
    env.update(exports)
    env.update(own)
    return env


class Processes:
    """Starting, recognising and stopping one project's processes (used by riso.runner.Runner)."""

    def __init__(self, layout: Layout, root: Path, warnings: list[str]) -> None:
        self.layout = layout
        self.root = root
        self.warnings = warnings
        self.interpreter = process.real(sys.executable)

    # --- identity ----------------------------------------------------------------------------

    def home(self, name: str) -> str:
        return process.real(self.layout.process_home(name))

    def identity(self, name: str, record: ProcessRecord) -> process.Identity | None:
        """The record as an Identity, or None when it cannot be this project's supervisor (a
        record copied with the project folder names the original's folder)."""
        if record.home != self.home(name):
            return None
        return process.Identity(record.pid, record.start_time, record.executable, record.home, None, True)

    def _is_supervisor(self, pid: int) -> bool:
        argv = process.cmdline(pid)
        return argv is not None and any(a.endswith("supervise.py") for a in argv)

    def find_unrecorded(self, name: str, port: int | None) -> ProcessRecord | None:
        """A supervisor of this process working in its folder that no record names."""
        home = self.home(name)
        if not Path(home).is_dir():
            return None
        found = {p: t for p, t in process.find(home, {self.interpreter}).items() if self._is_supervisor(p)}
        if not found:
            return None
        pid = min(found, key=lambda p: (found[p], p))
        return ProcessRecord(pid=pid, start_time=found[pid], executable=self.interpreter, home=home, port=port)

    def _status(self, name: str, record: ProcessRecord) -> ProcessStatus | None:
        """The supervisor's report, when it is this supervisor's (not a stale one's)."""
        status = read_status(self.layout, name)
        return status if status is not None and status.supervisor == record.pid else None

    def state(self, name: str, port: int | None = None) -> Found:
        """running (the supervisor runs its program), restarting (waiting to restart it), crashed
        (the supervisor gave up, or is gone without having stopped it) or stopped."""
        record = read_process(self.layout, name)
        if record is not None:
            ident = self.identity(name, record)
            if ident is not None:
                status = self._status(name, record)
                if ident.matches():
                    return Found(_reported(status), record, status)
                if status is not None and status.state in ("exited", "stopped"):
                    return Found(STOPPED, record, status)
                return Found(CRASHED, record, status)
        found = self.find_unrecorded(name, record.port if record else port)
        if found is not None:
            with contextlib.suppress(OSError):
                write_process(self.layout, name, found)
            status = self._status(name, found)
            return Found(_reported(status), found, status)
        return Found(STOPPED)

    # --- starting ----------------------------------------------------------------------------

    def start(self, item: Launch, cancel: threading.Event) -> None:
        """Start the supervisor, record it, wait until the program is ready; stop it on any failure."""
        name = item.proc.name
        log = self.layout.log_file(name)
        offset = log.stat().st_size if log.exists() else 0
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"--- riso: starting {name} at {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n")
        home = self.layout.process_home(name)
        home.mkdir(parents=True, exist_ok=True)
        self.layout.status_file(name).unlink(missing_ok=True)
        # The supervisor waits for its spec on stdin: it is recorded before it gets one, so one
        # interrupted here either is recorded or exits on its own (EOF) having started nothing.
        supervisor = self._spawn(log, home)
        record = ProcessRecord(
            pid=supervisor.pid,
            start_time=process.start_time(supervisor.pid) or 0,
            executable=self.interpreter,
            home=process.real(home),
            port=item.port,
        )
        try:
            write_process(self.layout, name, record)
        except OSError as problem:
            self.abandon(item.proc, record)
            where = self.layout.relative(self.layout.process_file(name))
            raise RisoError(
                f"{name}: cannot record its supervisor in {where} ({problem.strerror}); stopped it",
                "free space in (or make writable) the project's .riso folder, then run `riso up` again",
            ) from None
        try:
            self._send(supervisor, item, log)
            self._await_ready(item, supervisor, record, log, offset, cancel)
        except BaseException:  # a failure, a timeout, Ctrl-C: the process just started is stopped
            self.abandon(item.proc, record)
            raise

    def _spawn(self, log: Path, home: Path) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-I", "-S", str(SUPERVISOR)]
        with log.open("ab") as out:
            try:
                return subprocess.Popen(
                    argv,
                    stdin=subprocess.PIPE,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=home,
                    env=process.service_env(home),
                    start_new_session=True,
                    close_fds=True,
                )
            except OSError as problem:
                raise RisoError(f"cannot start a supervisor ({sys.executable}): {problem.strerror}") from None

    def _send(self, supervisor: subprocess.Popen[bytes], item: Launch, log: Path) -> None:
        """The spec, on the supervisor's stdin (never its command line: the environment may hold secrets)."""
        proc = item.proc
        spec = {
            "name": proc.name,
            "argv": item.argv,
            "env": item.env,
            "cwd": str(item.cwd),
            "log": str(log),
            "status": str(self.layout.status_file(proc.name)),
            "restart": proc.restart,
            "max_restarts": proc.max_restarts,
            "backoff": proc.backoff,
            "stop_signal": proc.stop_signal,
            "stop_timeout": proc.stop_timeout,
        }
        assert supervisor.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it died at once: the wait says so
            supervisor.stdin.write(json.dumps(spec).encode())
        with contextlib.suppress(BrokenPipeError):
            supervisor.stdin.close()

    def _await_ready(
        self,
        item: Launch,
        supervisor: subprocess.Popen[bytes],
        record: ProcessRecord,
        log: Path,
        offset: int,
        cancel: threading.Event,
    ) -> None:
        name, ready = item.proc.name, item.proc.readiness
        latest: list[ProcessStatus | None] = [None]

        def report() -> ProcessStatus | None:
            with contextlib.suppress(StateError):
                latest[0] = self._status(name, record)
            return latest[0]

        def alive() -> bool:
            if cancel.is_set() or supervisor.poll() is not None:
                return False
            status = report()
            return status is None or (status.state == "running" and status.restarts == 0)

        def probe() -> bool:
            status = latest[0]
            return status is not None and status.state == "running" and self.check(item, status)

        outcome = probes.wait(probe, alive, ready.timeout)
        if outcome is probes.Outcome.READY:
            return
        if cancel.is_set():
            raise KeyboardInterrupt
        status = report()
        if outcome is probes.Outcome.EXITED:
            from riso.runner.supervise import describe

            code = status.exit_code if status is not None and status.exit_code is not None else supervisor.returncode
            why = f"{describe(code)} before it was ready" if code is not None else "stopped before it was ready"
        else:
            why = f"did not become ready within {ready.timeout:g}s ({_probe_text(item)})"
        raise RisoError(f"{name} {why}; last lines of {self.layout.relative(log)}:\n{tail(log, offset)}")

    def check(self, item: Launch, status: ProcessStatus) -> bool:
        """One readiness check of a running process."""
        ready = item.proc.readiness
        if ready.type == "http" and item.port is not None:
            return probes.http(probes.Target(host=HOST, port=item.port, data_dir=self.root, path=ready.path))
        if ready.type == "command" and ready.argv:
            argv = item.ctx.expand_all(ready.argv)
            try:
                done = subprocess.run(
                    argv,
                    cwd=item.cwd,
                    env=item.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    timeout=COMMAND_PROBE_TIMEOUT,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired):
                return False
            return done.returncode == 0
        return status.started is not None and time.time() - status.started >= SETTLE

    # --- stopping ----------------------------------------------------------------------------

    def abandon(self, proc: Process, record: ProcessRecord) -> None:
        """Stop a supervisor this command just started (it is provably ours: we spawned it)."""
        ident = process.Identity(record.pid, record.start_time, record.executable, record.home, None, True)
        process.stop(ident, "SIGTERM", min(proc.stop_timeout, 5.0) + 5.0)
        with contextlib.suppress(OSError):
            remove_process(self.layout, proc.name)

    def stop(self, name: str, proc: Process | None) -> bool:
        """Stop a process (its supervisor stops the program's group gracefully, then SIGKILL;
        whatever is left of its session is killed). Returns whether it was running."""
        try:
            found = self.state(name)
        except StateError:
            found = Found(STOPPED)
            unrecorded = self.find_unrecorded(name, None)
            if unrecorded is None:
                raise
            found = Found(RUNNING, unrecorded)
        record = found.record
        timeout = (proc.stop_timeout if proc is not None else 10.0) + 5.0
        if record is not None:
            ident = self.identity(name, record)
            if ident is not None:
                process.stop(ident, "SIGTERM", timeout)
        for _ in range(3):  # supervisors no record names (a second `up` after a lost record)
            stray = self.find_unrecorded(name, None)
            ident = self.identity(name, stray) if stray is not None else None
            if ident is None:
                break
            process.stop(ident, "SIGTERM", timeout)
        if self.layout.process_file(name).exists() or self.layout.status_file(name).exists():
            try:
                remove_process(self.layout, name)
            except OSError as problem:
                shown = self.layout.relative(self.layout.process_file(name))
                self.warnings.append(f"could not remove {shown}: {problem.strerror}")
        return found.state in (RUNNING, RESTARTING)

    def clear_crashed(self, name: str, found: Found) -> None:
        """Before a start: what is left of a crashed process (the program outliving a killed
        supervisor) is killed, and its record removed."""
        record = found.record
        if record is not None:
            ident = self.identity(name, record)
            # a live pid with the recorded start time that fails the identity check is another
            # program (never signalled); otherwise its session is cleared
            if ident is not None and (process.start_time(record.pid) != record.start_time or ident.matches()):
                process.kill_leftovers(ident)
            remove_process(self.layout, name)


def _reported(status: ProcessStatus | None) -> str:
    """The state of a process whose supervisor is alive, from what it last wrote."""
    if status is None or status.state == "running":
        return RUNNING  # no report yet: it is starting its program
    if status.state == "restarting":
        return RESTARTING
    if status.state == "crashed":
        return CRASHED
    return STOPPED  # stopping, stopped, exited: on its way out


def _probe_text(item: Launch) -> str:
    ready = item.proc.readiness
    if ready.type == "http":
        return f"GET http://{HOST}:{item.port}{ready.path or '/'}"
    if ready.type == "command":
        return f"`{' '.join(ready.argv or [])}` did not exit 0"
    return "it did not keep running"
