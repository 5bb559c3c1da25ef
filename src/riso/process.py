"""Processes: daemonised start in their own session, recognising them later, graceful stop, privilege drop.

A started service is identified by (pid, start time): a pid alone may be recycled by an unrelated
process after a crash, and riso must never signal that one. Each service runs in its own session,
so its children (Postgres backends) share the session id and can be found and stopped with it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from riso.errors import RisoError

PROC = Path("/proc")
SERVICE_USER = "riso"
FALLBACK_USER = "nobody"


# --- recognising processes ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    state: str
    ppid: int
    session: int
    start_time: int


def _proc_info(pid: int) -> ProcInfo | None:
    """State, parent, session id and start time (clock ticks since boot) from /proc/<pid>/stat."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = raw[raw.rfind(")") + 2 :].split()
    return ProcInfo(state=fields[0], ppid=int(fields[1]), session=int(fields[3]), start_time=int(fields[19]))


def _psutil_start_time(pid: int) -> int | None:
    """Where there is no /proc (macOS): psutil's creation time in milliseconds."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return int(proc.create_time() * 1000)
    except psutil.Error:
        return None


def start_time(pid: int) -> int | None:
    """The process's start time, or None when it is gone or a zombie."""
    if not PROC.is_dir():
        return _psutil_start_time(pid)
    info = _proc_info(pid)
    if info is None or info.state in ("Z", "X"):
        return None
    return info.start_time


def is_running(pid: int, started: int) -> bool:
    """True when `pid` is alive and still the process that started at `started`."""
    _reap(pid)
    return start_time(pid) == started


def _reap(pid: int) -> None:
    """Collect the exit status if `pid` is our own child (otherwise it would stay a zombie)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _live_processes() -> dict[int, ProcInfo]:
    table = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            info = _proc_info(int(entry.name))
            if info is not None and info.state not in ("Z", "X"):
                table[int(entry.name)] = info
    return table


def family(pid: int, started: int) -> dict[int, int]:
    """The service's live processes, {pid: start time}: itself, its descendants, its session.

    Descendants are found through their parent while the service lives (Postgres gives each child
    a session of its own); the session also finds children that outlived a killed parent. When
    `pid` now belongs to another process (recycled), nothing is returned: riso never signals
    what it cannot identify.
    """
    if not PROC.is_dir():
        return {pid: started} if is_running(pid, started) else {}
    table = _live_processes()
    leader = table.get(pid)
    if leader is not None and leader.start_time != started:
        return {}
    found = {p: i.start_time for p, i in table.items() if i.session == pid and i.start_time >= started}
    if leader is not None:
        found[pid] = started
        children: dict[int, list[int]] = {}
        for p, i in table.items():
            children.setdefault(i.ppid, []).append(p)
        pending = [pid]
        while pending:
            for child in children.get(pending.pop(), []):
                if child not in found:
                    found[child] = table[child].start_time
                    pending.append(child)
    return found


# --- starting ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """The unprivileged user a service runs as when riso runs as root."""

    name: str
    uid: int
    gid: int

    def popen_kwargs(self) -> dict[str, object]:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _child_kwargs(out: IO[bytes], cwd: Path, env: Mapping[str, str], user: Credentials | None) -> dict[str, Any]:
    """What every child of the runner gets: no stdin, output to its log, its own env, the service user."""
    return {
        "stdin": subprocess.DEVNULL,
        "stdout": out,
        "stderr": subprocess.STDOUT,
        "cwd": cwd,
        "env": dict(env),
        **(user.popen_kwargs() if user else {}),
    }


def spawn(
    argv: Sequence[str],
    *,
    log: Path,
    cwd: Path,
    env: Mapping[str, str],
    user: Credentials | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, output appended to `log`; it outlives riso."""
    with log.open("ab") as out:
        try:
            return subprocess.Popen(
                list(argv),
                **_child_kwargs(out, cwd, env, user),
                start_new_session=True,
                close_fds=True,
            )
        except OSError as problem:
            raise RisoError(f"cannot start {argv[0]}: {problem.strerror}") from None


def run(
    argv: Sequence[str],
    *,
    log: Path,
    cwd: Path,
    env: Mapping[str, str],
    user: Credentials | None = None,
    timeout: float = 300.0,
) -> int:
    """Run `argv` to completion (an init step), output appended to `log`; returns the exit code."""
    with log.open("ab") as out:
        try:
            done = subprocess.run(
                list(argv),
                **_child_kwargs(out, cwd, env, user),
                timeout=timeout,
                check=False,
            )
        except OSError as problem:
            raise RisoError(f"cannot run {argv[0]}: {problem.strerror}") from None
        except subprocess.TimeoutExpired:
            raise RisoError(f"{argv[0]} did not finish within {timeout:.0f}s") from None
    code: int = done.returncode
    return code


# --- stopping ----------------------------------------------------------------------------------


def wait_gone(pid: int, started: int, timeout: float) -> bool:
    """Poll (short backoff) until the process is gone; False on timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while is_running(pid, started):
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True


def kill_all(members: dict[int, int], timeout: float = 5.0) -> None:
    """SIGKILL each process of `members` ({pid: start time}) that is still that process."""
    deadline = time.monotonic() + timeout
    while left := [p for p, t in members.items() if is_running(p, t)]:
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() >= deadline:
            raise RisoError(f"processes {left} survived SIGKILL")
        time.sleep(0.01)


def kill_leftovers(pid: int, started: int, reap_wait: float = 5.0) -> None:
    """Clear what is left of a service whose main process died (children outliving it).

    Then wait (bounded) until the dead process is reaped: a zombie still answers kill(pid, 0),
    and Postgres refuses to start while the pid in its stale postmaster.pid seems alive. Orphans
    are reaped by init, which in containers may take a moment.
    """
    kill_all(family(pid, started))
    deadline = time.monotonic() + reap_wait
    while (info := _proc_info(pid)) is not None and info.start_time == started:
        if time.monotonic() >= deadline:
            return
        _reap(pid)
        time.sleep(0.02)


def stop(pid: int, started: int, stop_signal: str, timeout: float) -> bool:
    """Graceful stop: `stop_signal`, wait up to `timeout`, then SIGKILL; no child is left behind.

    Returns False when the process had to be killed.
    """
    graceful = True
    members = family(pid, started)
    if is_running(pid, started):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.Signals[stop_signal])
        if not wait_gone(pid, started, timeout):
            graceful = False
            members.update(family(pid, started))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_gone(pid, started, 5.0)
    members.update(family(pid, started))
    kill_all(members)
    return graceful


# --- privilege drop ----------------------------------------------------------------------------


def is_root() -> bool:
    return os.geteuid() == 0


def _lookup(name: str) -> Credentials | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Credentials(name=entry.pw_name, uid=entry.pw_uid, gid=entry.pw_gid)


def service_user(create: bool = True) -> Credentials:
    """The system user services that refuse root run as: `riso` (created once), else `nobody`."""
    found = _lookup(SERVICE_USER)
    if found is None and create and shutil.which("useradd"):
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            capture_output=True,
            check=False,
        )
        found = _lookup(SERVICE_USER)  # also covers a concurrent creation
    found = found or _lookup(FALLBACK_USER)
    if found is None:
        raise RisoError(
            f"running as root, but neither user {SERVICE_USER!r} nor {FALLBACK_USER!r} exists to run Postgres",
            f"create one: useradd --system {SERVICE_USER}",
        )
    return found


def can_traverse(path: Path, user: Credentials) -> bool:
    """Whether `user` may reach `path` (search permission on it and every parent)."""
    groups = set(os.getgrouplist(user.name, user.gid))
    for folder in (path, *path.parents):
        try:
            st = folder.stat()
        except OSError:
            return False
        if st.st_uid == user.uid:
            allowed = st.st_mode & 0o100
        elif st.st_gid in groups:
            allowed = st.st_mode & 0o010
        else:
            allowed = st.st_mode & 0o001
        if not allowed:
            return False
    return True


def chown_tree(path: Path, user: Credentials) -> None:
    """Give `path` (recursively when its top is not theirs yet) to `user`."""
    if path.stat().st_uid == user.uid:
        return
    os.chown(path, user.uid, user.gid)
    for folder, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.chown(Path(folder, name), user.uid, user.gid, follow_symlinks=False)
