"""The project's `.riso/` folder: layout, remembered ports, pid records, markers and the lock.

Every state file is small JSON (or text) written atomically: a temporary file in the same folder,
flushed, then renamed over the old one, so a crash or a full disk never leaves half a file.
Every read goes through `decode`: a missing file is None, and anything else that is not what riso
wrote (binary garbage, a pid of 2**40, a port above 65535) is one StateError naming the file and
the fix; nothing is repaired by deleting data.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from riso.errors import RisoError

STATE_DIR = ".riso"
# The ownership marker inside each data dir: which project folder made it, and a random id.
OWNER_FILE = ".riso-owner"
# Linux's largest pid_max (2**22); macOS pids stay far below.
PID_MAX = 4_194_304
T = TypeVar("T")


class StateError(RisoError):
    """A file under `.riso/` (or a data dir's marker) is unreadable or inconsistent."""


@dataclass(frozen=True)
class Layout:
    """Where everything lives for one project."""

    root: Path

    @property
    def base(self) -> Path:
        return self.root / STATE_DIR

    @property
    def state(self) -> Path:
        return self.base / "state"

    @property
    def run(self) -> Path:
        return self.base / "run"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    @property
    def ports_file(self) -> Path:
        return self.run / "ports.json"

    @property
    def up_file(self) -> Path:
        return self.run / "up.json"

    @property
    def lock_file(self) -> Path:
        return self.run / "lock"

    @property
    def env_file(self) -> Path:
        return self.base / "env"

    def pid_file(self, service: str) -> Path:
        return self.run / f"{service}.pid"

    def intent_file(self, service: str) -> Path:
        return self.run / f"{service}.starting"

    def log_file(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def process_file(self, process: str) -> Path:
        """The record `riso up` writes for a process's supervisor."""
        return self.run / f"{process}.process"

    def status_file(self, process: str) -> Path:
        """What the supervisor says about its process (state, restarts), written by the supervisor."""
        return self.run / f"{process}.status"

    def process_home(self, process: str) -> Path:
        """The folder a process's supervisor works in (what identifies it in /proc)."""
        return self.state / process

    def ensure(self) -> None:
        for folder in (self.state, self.run, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        ignore = self.base / ".gitignore"
        if not ignore.exists():
            write_text(ignore, "# riso's runtime state: data, logs, pids, ports\n*\n")

    def relative(self, path: Path) -> str:
        """`path` relative to the project root when inside it (for messages)."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


# --- writing and reading -----------------------------------------------------------------------


def write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Atomic: write a temporary file beside `path`, fsync it, rename it over `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def decode(path: Path, what: str, fix: str, check: Callable[[Any], T], shown: str | None = None) -> T | None:
    """The one place state is read: None when absent, `check(json)` when valid, else StateError."""
    name = shown or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise StateError(f"{name} is a folder, not {what}", fix) from None
    except OSError as problem:
        raise StateError(f"{name} cannot be read ({problem.strerror})", fix) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise StateError(f"{name} is not valid JSON (so not {what})", fix) from None
    try:
        return check(data)
    except (ValueError, TypeError, KeyError, OverflowError):
        raise StateError(f"{name} is not {what}", fix) from None


def _int(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(value)
    return value


def _text(value: Any, optional: bool = False) -> Any:
    if (value is None and optional) or (isinstance(value, str) and "\0" not in value and value):
        return value
    raise ValueError(value)


# --- ports -------------------------------------------------------------------------------------


def _ports(data: Any) -> dict[str, int]:
    if not isinstance(data, dict):
        raise ValueError(data)
    return {_text(k): _int(v, 1, 65535) for k, v in data.items()}


def read_ports(layout: Layout) -> dict[str, int]:
    fix = f"delete {layout.relative(layout.ports_file)}; riso allocates new ports on the next `riso up`"
    shown = layout.relative(layout.ports_file)
    return decode(layout.ports_file, "a map of service names to ports", fix, _ports, shown) or {}


def write_ports(layout: Layout, ports: dict[str, int]) -> None:
    write_json(layout.ports_file, ports)


# --- pid records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PidRecord:
    """A started service: enough to recognise its process later (see process.Identity)."""

    pid: int
    start_time: int
    port: int
    data_dir: str
    socket_dir: str | None = None
    uid: int | None = None
    executable: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _record(data: Any) -> PidRecord:
    if not isinstance(data, dict) or not {"pid", "start_time", "port", "data_dir"} <= set(data):
        raise ValueError(data)
    record = PidRecord(**data)
    _int(record.pid, 2, PID_MAX)
    _int(record.start_time, 0, 2**63)
    _int(record.port, 1, 65535)
    _text(record.data_dir)
    _text(record.socket_dir, optional=True)
    _text(record.executable, optional=True)
    if record.uid is not None:
        _int(record.uid, 0, 2**32 - 1)
    return record


def read_pid(layout: Layout, service: str) -> PidRecord | None:
    path = layout.pid_file(service)
    fix = f"stop any {service} left running by hand, then delete {layout.relative(path)}"
    return decode(path, "a riso pid record", fix, _record, layout.relative(path))


def write_pid(layout: Layout, service: str, record: PidRecord) -> None:
    write_json(layout.pid_file(service), record.to_json())


def remove_pid(layout: Layout, service: str) -> None:
    layout.pid_file(service).unlink(missing_ok=True)


def recorded_services(layout: Layout) -> list[str]:
    """Every service with a pid file, whether or not the current plan still has it."""
    if not layout.run.is_dir():
        return []
    return sorted(p.stem for p in layout.run.glob("*.pid") if not p.name.startswith("."))


# --- process records: a supervisor `riso up` started ---------------------------------------------


@dataclass(frozen=True)
class ProcessRecord:
    """A started process: its supervisor (pid, start time, interpreter, working folder) and port."""

    pid: int
    start_time: int
    executable: str
    home: str
    port: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _process_record(data: Any) -> ProcessRecord:
    if not isinstance(data, dict) or not {"pid", "start_time", "executable", "home"} <= set(data):
        raise ValueError(data)
    record = ProcessRecord(**data)
    _int(record.pid, 2, PID_MAX)
    _int(record.start_time, 0, 2**63)
    _text(record.executable)
    _text(record.home)
    if record.port is not None:
        _int(record.port, 1, 65535)
    return record


def read_process(layout: Layout, process: str) -> ProcessRecord | None:
    path = layout.process_file(process)
    home = layout.relative(layout.process_home(process))
    fix = f"stop {process} if it still runs (its supervisor works in {home}), then delete {layout.relative(path)}"
    return decode(path, "a riso process record", fix, _process_record, layout.relative(path))


def write_process(layout: Layout, process: str, record: ProcessRecord) -> None:
    write_json(layout.process_file(process), record.to_json())


def remove_process(layout: Layout, process: str) -> None:
    layout.process_file(process).unlink(missing_ok=True)
    layout.status_file(process).unlink(missing_ok=True)


def recorded_processes(layout: Layout) -> list[str]:
    """Every process with a record, whether or not the current plan still has it."""
    if not layout.run.is_dir():
        return []
    return sorted(p.stem for p in layout.run.glob("*.process") if not p.name.startswith("."))


# The states a supervisor reports (riso.runner.supervise writes them).
SUPERVISOR_STATES = ("running", "restarting", "stopping", "stopped", "exited", "crashed")


@dataclass(frozen=True)
class ProcessStatus:
    """What a supervisor last wrote: its own pid and start time (so a stale file is recognised),
    the state of its process, the child's pid, the restarts so far and the last exit code
    (negative: killed by that signal)."""

    supervisor: int
    state: str
    restarts: int
    child: int | None = None
    exit_code: int | None = None
    started: float | None = None  # time.time() when the current child was started

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _process_status(data: Any) -> ProcessStatus:
    if not isinstance(data, dict):
        raise ValueError(data)
    status = ProcessStatus(**data)
    _int(status.supervisor, 2, PID_MAX)
    _int(status.restarts, 0, 2**31)
    if status.state not in SUPERVISOR_STATES:
        raise ValueError(status.state)
    if status.child is not None:
        _int(status.child, 2, PID_MAX)
    if status.exit_code is not None:
        _int(status.exit_code, -256, 255)
    if status.started is not None and (
        isinstance(status.started, bool) or not isinstance(status.started, (int, float))
    ):
        raise ValueError(status.started)
    return status


def read_status(layout: Layout, process: str) -> ProcessStatus | None:
    path = layout.status_file(process)
    fix = f"delete {layout.relative(path)}; its supervisor writes it again on its next change"
    return decode(path, "a riso supervisor status", fix, _process_status, layout.relative(path))


# --- start intents: a start that is under way (or was killed) -----------------------------------


def write_intent(layout: Layout, service: str, data_dir: Path) -> None:
    write_json(layout.intent_file(service), {"data_dir": str(data_dir), "pid": os.getpid()})


def read_intent(layout: Layout, service: str) -> str | None:
    path = layout.intent_file(service)
    fix = f"delete {layout.relative(path)}; the next `riso up` checks the data dir again"
    return decode(path, "a riso start record", fix, lambda d: _text(d["data_dir"]), layout.relative(path))


def clear_intent(layout: Layout, service: str) -> None:
    layout.intent_file(service).unlink(missing_ok=True)


# --- the up marker: which services the user asked to run ---------------------------------------


def _names(data: Any) -> list[str]:
    if not isinstance(data, list):
        raise ValueError(data)
    return [_text(n) for n in data]


def read_up(layout: Layout) -> list[str]:
    fix = f"delete {layout.relative(layout.up_file)} and run `riso up` again"
    return decode(layout.up_file, "a list of service names", fix, _names, layout.relative(layout.up_file)) or []


def write_up(layout: Layout, services: list[str]) -> None:
    write_json(layout.up_file, services)


def clear_up(layout: Layout) -> None:
    layout.up_file.unlink(missing_ok=True)


# --- the setup stamp: which SQL hooks already ran on a service's current data -----------------


def _stamp(layout: Layout, service: str) -> Path:
    return layout.run / f"{service}.setup"


def read_setup_stamp(layout: Layout, service: str) -> str | None:
    path = _stamp(layout, service)
    fix = f"delete {layout.relative(path)}; the setup hooks run again on the next `riso up`"
    return decode(path, "a riso setup stamp", fix, lambda d: json.dumps(d, sort_keys=True), layout.relative(path))


def write_setup_stamp(layout: Layout, service: str, fingerprint: str) -> None:
    write_text(_stamp(layout, service), fingerprint)


def clear_setup_stamp(layout: Layout, service: str) -> None:
    _stamp(layout, service).unlink(missing_ok=True)


# --- ownership markers inside data dirs ---------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    project: str
    id: str


def _owner(data: Any) -> Owner:
    if not isinstance(data, dict):
        raise ValueError(data)
    return Owner(project=_text(data["project"]), id=_text(data["id"]))


def read_owner(data_dir: Path) -> Owner | None:
    path = data_dir / OWNER_FILE
    fix = f"check which project {data_dir} belongs to; riso touches it only with a valid marker"
    return decode(path, "a riso ownership marker", fix, _owner)


def write_owner(data_dir: Path, project: Path, owner_id: str | None = None) -> Owner:
    owner = Owner(project=str(project), id=owner_id or secrets.token_hex(16))
    write_json(data_dir / OWNER_FILE, asdict(owner))
    return owner


# --- the lock ----------------------------------------------------------------------------------


def _open_lock(layout: Layout) -> int | None:
    """The lock file's descriptor; read-only when `.riso/run` cannot be written; None when absent."""
    try:
        layout.run.mkdir(parents=True, exist_ok=True)
        return os.open(layout.lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as problem:
        if problem.errno not in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT):
            raise
    try:
        return os.open(layout.lock_file, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def project_lock(layout: Layout, timeout: float, writable: bool = True) -> Iterator[None]:
    """Hold `.riso/run/lock` (fcntl.flock) so two `riso up`/`down` never act on one project at once.

    Waits up to `timeout` seconds for another runner to finish, then names its pid. With
    `writable=False` (stopping) a read-only or full `.riso/run` still locks, or goes on unlocked
    when there is no lock file to open: stopping must never be blocked by the state folder.
    """
    if writable:
        layout.run.mkdir(parents=True, exist_ok=True)
        fd: int | None = os.open(layout.lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    else:
        fd = _open_lock(layout)
    if fd is None:
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                    raise RisoError(
                        f"another riso command (pid {holder}) is starting or stopping this project",
                        "wait for it to finish, then try again",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        with contextlib.suppress(OSError):
            os.pwrite(fd, f"{os.getpid():<12}\n".encode(), 0)  # fixed width: no truncate needed
        yield
    finally:
        os.close(fd)  # closing releases the flock
