"""The project's `.riso/` folder: layout, remembered ports, pid records, the up marker and the lock.

Everything here is small JSON written atomically (write a temporary file, then rename), so a
crash never leaves half a file; a file that is still unreadable is reported with its fix, never
repaired by deleting data.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from riso.errors import RisoError

STATE_DIR = ".riso"


class StateError(RisoError):
    """A file under `.riso/` is unreadable or inconsistent."""


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

    def pid_file(self, service: str) -> Path:
        return self.run / f"{service}.pid"

    def log_file(self, service: str) -> Path:
        return self.logs / f"{service}.log"

    def ensure(self) -> None:
        for folder in (self.state, self.run, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        ignore = self.base / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# riso's runtime state: data, logs, pids, ports\n*\n", encoding="utf-8")

    def relative(self, path: Path) -> str:
        """`path` relative to the project root when inside it (for messages)."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path, layout: Layout, what: str, fix: str) -> Any | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise StateError(f"{layout.relative(path)} is not {what}", fix) from None


# --- ports -------------------------------------------------------------------------------------


def read_ports(layout: Layout) -> dict[str, int]:
    fix = f"delete {layout.relative(layout.ports_file)}; riso allocates new ports on the next `riso up`"
    data = _read_json(layout.ports_file, layout, "valid JSON", fix)
    if data is None:
        return {}
    valid = isinstance(data, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and 0 < v < 65536 for k, v in data.items()
    )
    if not valid:
        raise StateError(f"{layout.relative(layout.ports_file)} does not map service names to ports", fix)
    return dict(data)


def write_ports(layout: Layout, ports: dict[str, int]) -> None:
    write_json(layout.ports_file, ports)


# --- pid records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PidRecord:
    """A started service: enough to recognise its process later even if the pid is recycled."""

    pid: int
    start_time: int
    port: int
    data_dir: str
    socket_dir: str | None = None
    uid: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_pid(layout: Layout, service: str) -> PidRecord | None:
    path = layout.pid_file(service)
    fix = f"stop any {service} left running by hand, then delete {layout.relative(path)}"
    data = _read_json(path, layout, "a valid pid record (JSON)", fix)
    if data is None:
        return None
    try:
        record = PidRecord(**data)
    except TypeError:
        raise StateError(f"{layout.relative(path)} is not a riso pid record", fix) from None
    if not isinstance(record.pid, int) or record.pid <= 1 or not isinstance(record.start_time, int):
        raise StateError(f"{layout.relative(path)} holds an invalid pid", fix)
    return record


def write_pid(layout: Layout, service: str, record: PidRecord) -> None:
    write_json(layout.pid_file(service), record.to_json())


def remove_pid(layout: Layout, service: str) -> None:
    layout.pid_file(service).unlink(missing_ok=True)


def recorded_services(layout: Layout) -> list[str]:
    """Every service with a pid file, whether or not the current plan still has it."""
    if not layout.run.is_dir():
        return []
    return sorted(p.stem for p in layout.run.glob("*.pid"))


# --- the up marker: which services the user asked to run ---------------------------------------


def read_up(layout: Layout) -> list[str]:
    fix = f"delete {layout.relative(layout.up_file)} and run `riso up` again"
    data = _read_json(layout.up_file, layout, "valid JSON", fix)
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
        raise StateError(f"{layout.relative(layout.up_file)} is not a list of service names", fix)
    return list(data)


def write_up(layout: Layout, services: list[str]) -> None:
    write_json(layout.up_file, services)


def clear_up(layout: Layout) -> None:
    layout.up_file.unlink(missing_ok=True)


# --- the setup stamp: which SQL hooks already ran on a service's current data -----------------


def _stamp(layout: Layout, service: str) -> Path:
    return layout.run / f"{service}.setup"


def read_setup_stamp(layout: Layout, service: str) -> str | None:
    try:
        return _stamp(layout, service).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def write_setup_stamp(layout: Layout, service: str, fingerprint: str) -> None:
    _stamp(layout, service).write_text(fingerprint, encoding="utf-8")


def clear_setup_stamp(layout: Layout, service: str) -> None:
    _stamp(layout, service).unlink(missing_ok=True)


# --- the lock ----------------------------------------------------------------------------------


@contextlib.contextmanager
def project_lock(layout: Layout, timeout: float) -> Iterator[None]:
    """Hold `.riso/run/lock` (fcntl.flock) so two `riso up`/`down` never act on one project at once.

    Waits up to `timeout` seconds for another runner to finish, then names its pid.
    """
    layout.run.mkdir(parents=True, exist_ok=True)
    fd = os.open(layout.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
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
        os.pwrite(fd, f"{os.getpid():<12}\n".encode(), 0)  # fixed width: no truncate needed
        yield
    finally:
        os.close(fd)  # closing releases the flock
