"""Processes: daemonised start in their own session, recognising them later, graceful stop, privilege drop.

A started service is identified by what riso started, not by its pid alone: pid and start time
(a pid may be recycled), and on Linux also its executable, its working folder (every service is
started in its data dir, and Postgres works in it) and its listening port (`Identity`). A process
that fails any of these is never signalled. The same facts find a service's processes without a
record (`find`): a server whose pid file was lost, or Postgres backends that outlived a killed
postmaster (they leave its session but keep working in its data dir).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
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
        with open(f"{PROC}/{pid}/stat", "rb") as handle:
            raw = handle.read().decode(errors="replace")
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


# --- identity: executable, working folder, listening ports ----------------------------------------


def _link(pid: int, name: str) -> str | None:
    try:
        return os.readlink(PROC / str(pid) / name)
    except OSError:
        return None


def cmdline(pid: int) -> list[str] | None:
    """The process's arguments, or None when they cannot be read."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0")[:-1]]


def real(path: str | Path) -> str:
    """`path` with symlinks resolved (how /proc shows executables and folders)."""
    return os.path.realpath(path)


def listening_ports(pid: int) -> set[int] | None:
    """The TCP ports `pid` listens on; None when its descriptors cannot be read."""
    try:
        links = [os.readlink(entry) for entry in (PROC / str(pid) / "fd").iterdir()]
    except OSError:
        return None
    inodes = {link[8:-1] for link in links if link.startswith("socket:[")}
    ports: set[int] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (PROC / "net" / table).read_text(encoding="ascii", errors="replace").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@dataclass(frozen=True)
class Identity:
    """What riso started: checked before a process is adopted, reported running, or signalled."""

    pid: int
    start_time: int
    executable: str | None  # resolved path of the server binary
    home: str  # resolved data dir: the folder the service works in
    port: int | None = None
    search_home: bool = True  # whether every process of `executable` working in `home` is the service's

    def matches(self, pid: int | None = None) -> bool:
        """True when `pid` (default: the recorded one) is alive and is this service's process."""
        pid = self.pid if pid is None else pid
        if pid == self.pid and not is_running(pid, self.start_time):
            return False
        if not PROC.is_dir():
            return pid == self.pid
        return _is_member(pid, self.executable, self.home)

    def listens(self) -> bool:
        """False only when the process provably does not listen on the recorded port."""
        if self.port is None:
            return True
        ports = listening_ports(self.pid)
        return ports is None or not ports or self.port in ports


def _is_member(pid: int, executable: str | None, home: str) -> bool:
    cwd = _link(pid, "cwd")
    if cwd is None or cwd.removesuffix(" (deleted)") != home:
        return False
    exe = _link(pid, "exe")
    return executable is None or exe is None or exe.removesuffix(" (deleted)") == executable


def _working_in(match: Callable[[str], bool]) -> dict[int, int]:
    """Live processes whose working folder satisfies `match`, {pid: start time}.

    The folder is read first (one readlink per process); /proc/<pid>/stat only for the matches.
    """
    found: dict[int, int] = {}
    me = os.getpid()
    for entry in os.listdir(PROC):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            cwd = os.readlink(f"{PROC}/{entry}/cwd")
        except OSError:
            continue
        if not match(cwd):
            continue
        info = _proc_info(int(entry))
        if info is not None and info.state not in ("Z", "X"):
            found[int(entry)] = info.start_time
    return found


def find(home: str, executables: set[str] | None = None) -> dict[int, int]:
    """Live processes working in `home` (a resolved folder), {pid: start time}; optionally
    only those running one of `executables` (resolved paths)."""
    if not PROC.is_dir():
        return {}
    found = _working_in(lambda cwd: cwd == home)
    if executables is None:
        return found
    return {pid: started for pid, started in found.items() if _link(pid, "exe") in executables}


def find_under(folder: str) -> dict[int, int]:
    """Live processes working in `folder` or below it, {pid: start time}."""
    if not PROC.is_dir():
        return {}
    prefix = folder.rstrip("/") + "/"
    return _working_in(lambda cwd: cwd == folder or cwd.startswith(prefix))


# --- starting ----------------------------------------------------------------------------------


# What a service inherits from the caller: where programs and locales are, nothing else (no
# tokens, no libpq or Redis settings that would redirect it).
INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ", "TZDIR", "LOCALE_ARCHIVE")
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def service_env(home: Path) -> dict[str, str]:
    """The minimal, explicit environment services and their init steps run with."""
    env = {k: os.environ[k] for k in INHERITED if k in os.environ}
    env.setdefault("PATH", DEFAULT_PATH)
    env["HOME"] = str(home)
    return env


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


def members(ident: Identity) -> dict[int, int]:
    """Every live process of the service `ident` names: its family while the recorded process is
    still that service, plus every process of its executable working in its data dir (children
    that outlived it, e.g. Postgres backends after a kill -9 of the postmaster)."""
    leader_dead = start_time(ident.pid) is None
    found = family(ident.pid, ident.start_time) if leader_dead or ident.matches() else {}
    if PROC.is_dir() and ident.executable is not None and ident.search_home:
        found.update(find(ident.home, {ident.executable}))
    return found


def kill_leftovers(ident: Identity, reap_wait: float = 5.0) -> None:
    """Clear what is left of a service whose main process died (children outliving it).

    Then wait (bounded) until the dead process is reaped: a zombie still answers kill(pid, 0),
    and Postgres refuses to start while the pid in its stale postmaster.pid seems alive. Orphans
    are reaped by init, which in containers may take a moment.
    """
    kill_all(members(ident))
    deadline = time.monotonic() + reap_wait
    while (info := _proc_info(ident.pid)) is not None and info.start_time == ident.start_time:
        if time.monotonic() >= deadline:
            return
        _reap(ident.pid)
        time.sleep(0.02)


def stop(ident: Identity, stop_signal: str, timeout: float) -> bool:
    """Graceful stop: `stop_signal`, wait up to `timeout`, then SIGKILL; no child is left behind.

    Only processes that are provably the service (`Identity`) are signalled. Returns False when
    the process had to be killed.
    """
    graceful = True
    found = members(ident)
    pid, started = ident.pid, ident.start_time
    if ident.matches():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.Signals[stop_signal])
        if not wait_gone(pid, started, timeout):
            graceful = False
            found.update(members(ident))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            wait_gone(pid, started, 5.0)
    found.update(members(ident))
    kill_all(found)
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
