"""The supervisor of one project process: starts it, restarts it per its policy, stops it on request.

`riso up` runs one per process, detached in a session of its own, as

    python -I -S /path/to/riso/runner/supervise.py      # the spec as JSON on stdin

so it works with nothing but the standard library (no import of riso, whatever PYTHONPATH says),
and keeps working after `riso up -d` has returned. The spec (JSON on stdin, never on the command
line, where every user could read the environment it carries): `name`, `argv` (program already
resolved), `env`, `cwd`, `log`, `status`, `restart` (no | on-failure | always), `max_restarts`,
`backoff`, `stop_signal`, `stop_timeout`.

- The child runs in a process group of its own inside the supervisor's session, output appended
  to the process's log. When it exits, whatever it left in the session (a uvicorn --reload worker
  whose reloader was killed) is killed: nothing outlives the child.
- Restart: per policy, after `backoff` seconds, doubled for each restart in a row (at most
  BACKOFF_CAP); a run that lasted STABLE_AFTER seconds resets the count. After `max_restarts`
  restarts in a row it gives up. Each decision is one `riso: ...` line in the log.
- SIGTERM, SIGINT or SIGHUP: the child's group gets `stop_signal`, then SIGKILL after
  `stop_timeout`; the rest of the session is killed; the supervisor exits.
- `status` (in `.riso/run/`) is rewritten atomically on every change:
  {supervisor, state, restarts, child, exit_code, started}; riso.runner.state reads it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

BACKOFF_CAP = 30.0  # seconds: the longest wait between two restarts
STABLE_AFTER = 30.0  # seconds: a run this long resets the backoff and the restarts in a row
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _Stop(Exception):
    """Raised by the signal handler while the supervisor waits (for the child, or a backoff)."""


def describe(code: int) -> str:
    """`exited with code 3` / `was killed by SIGKILL` for a Popen return code."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with code {code}"


def _session_members() -> list[int]:
    """Every live process of this supervisor's session but itself (its child and what that left)."""
    me = os.getpid()
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                raw = handle.read().decode(errors="replace")
        except OSError:
            continue
        fields = raw[raw.rfind(")") + 2 :].split()
        if len(fields) > 3 and fields[0] not in ("Z", "X") and int(fields[3]) == me:
            found.append(int(entry))
    return found


class Supervisor:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.name: str = spec["name"]
        self.argv: list[str] = spec["argv"]
        self.env: dict[str, str] = spec["env"]
        self.cwd: str = spec["cwd"]
        self.log_path: str = spec["log"]
        self.status_path: str = spec["status"]
        self.policy: str = spec["restart"]
        self.max_restarts: int = spec["max_restarts"]
        self.backoff: float = spec["backoff"]
        self.stop_signal = signal.Signals[spec["stop_signal"]]
        self.stop_timeout: float = spec["stop_timeout"]
        self.restarts = 0
        self.stop_requested = False
        self.waiting = False  # while True, a stop signal interrupts the wait (raises _Stop)

    # --- signals, log, status ----------------------------------------------------------------

    def on_signal(self, signum: int, frame: object) -> None:
        self.stop_requested = True
        if self.waiting:
            raise _Stop

    def log(self, text: str) -> None:
        with contextlib.suppress(OSError), open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(f"riso: {text}\n")

    def write_status(self, state: str, child: int | None = None, exit_code: int | None = None) -> None:
        """Atomic: a temporary file beside the status file, fsynced, renamed over it. A failure
        (a full or read-only `.riso/run`) is not fatal: the process matters more than its report."""
        data = {
            "supervisor": os.getpid(),
            "state": state,
            "restarts": self.restarts,
            "child": child,
            "exit_code": exit_code,
            "started": time.time() if child is not None else None,
        }
        tmp = f"{self.status_path}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(data, sort_keys=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.status_path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    # --- the child ---------------------------------------------------------------------------

    def spawn(self) -> subprocess.Popen[bytes] | None:
        try:
            with open(self.log_path, "ab") as out:
                return subprocess.Popen(
                    self.argv,
                    cwd=self.cwd,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    process_group=0,
                    close_fds=True,
                )
        except OSError as problem:
            self.log(f"cannot start {self.name} ({self.argv[0]}): {problem.strerror or problem}")
            return None

    def wait(self, child: subprocess.Popen[bytes]) -> int | None:
        """The child's return code, or None when a stop was asked for first."""
        self.waiting = True
        try:
            if self.stop_requested:
                raise _Stop
            return child.wait()
        except _Stop:
            return None
        finally:
            self.waiting = False

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds`; False when a stop was asked for meanwhile."""
        self.waiting = True
        try:
            if self.stop_requested:
                raise _Stop
            time.sleep(seconds)
            return True
        except _Stop:
            return False
        finally:
            self.waiting = False

    def _signal_group(self, child: subprocess.Popen[bytes], sig: int) -> None:
        # Only while the child is not reaped: its pid (and so its group id) cannot be reused yet.
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, sig)

    def stop(self, child: subprocess.Popen[bytes]) -> int:
        """The graceful signal to the child's group, SIGKILL after the timeout, then the session."""
        self.log(f"stopping {self.name} ({self.stop_signal.name} to its process group)")
        self._signal_group(child, self.stop_signal)
        try:
            code = child.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.log(f"{self.name} did not stop within {self.stop_timeout:g}s of {self.stop_signal.name}; killing it")
            self._signal_group(child, signal.SIGKILL)
            code = child.wait()
        self.clear_session()
        return code

    def clear_session(self) -> None:
        """SIGKILL whatever the child left in this session (members of a session are its
        descendants: no other process can join it, so nothing foreign is ever hit)."""
        deadline = time.monotonic() + 5
        while (left := _session_members()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                while os.waitpid(-1, os.WNOHANG)[0] > 0:
                    pass
            time.sleep(0.01)

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> int:
        in_a_row = 0
        while True:
            if self.stop_requested:
                self.write_status("stopped")
                return 0
            began = time.monotonic()
            child = self.spawn()
            if child is None:
                self.write_status("crashed", exit_code=127)
                return 127
            self.write_status("running", child=child.pid)
            code = self.wait(child)
            if code is None:
                self.write_status("stopping", child=child.pid)
                code = self.stop(child)
                self.log(f"{self.name} {describe(code)}; stopped")
                self.write_status("stopped", exit_code=code)
                return 0
            self.clear_session()
            if time.monotonic() - began >= STABLE_AFTER:
                in_a_row = 0
            wanted = self.policy == "always" or (self.policy == "on-failure" and code != 0)
            if not wanted:
                self.log(f"{self.name} {describe(code)} (restart = {self.policy!r}: not restarted)")
                self.write_status("exited" if code == 0 else "crashed", exit_code=code)
                return 0
            if in_a_row >= self.max_restarts:
                self.log(f"{self.name} {describe(code)}; gave up after {in_a_row} restarts in a row")
                self.write_status("crashed", exit_code=code)
                return 0
            delay = min(self.backoff * 2**in_a_row, BACKOFF_CAP)
            in_a_row += 1
            self.restarts += 1
            self.log(
                f"{self.name} {describe(code)}, restarting in {delay:g}s (restart {in_a_row} of {self.max_restarts})"
            )
            self.write_status("restarting", exit_code=code)
            if not self.sleep(delay):
                self.write_status("stopped", exit_code=code)
                return 0


def main() -> int:
    supervisor: Supervisor | None = None
    pending: list[int] = []

    def early(signum: int, frame: object) -> None:  # before the spec is read: remember it
        pending.append(signum)

    for sig in STOP_SIGNALS:
        signal.signal(sig, early)
    try:
        spec = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    except ValueError:  # `riso up` was interrupted before it sent the spec: nothing to run
        print("riso: the supervisor got no spec from `riso up`; nothing started", flush=True)
        return 2
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    supervisor = Supervisor(spec)
    for sig in STOP_SIGNALS:
        signal.signal(sig, supervisor.on_signal)
    supervisor.stop_requested = bool(pending)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
