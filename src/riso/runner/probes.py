"""Readiness probes: Postgres `SELECT 1` through psql, Redis `PING` on a raw socket, HTTP via urllib.

Each check is one cheap attempt; `wait` polls it with a short backoff while the process lives.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path


@dataclass(frozen=True)
class Target:
    """Where a started service listens."""

    host: str
    port: int
    data_dir: Path
    socket_dir: str | None = None
    psql: str | None = None
    user: str = "postgres"
    path: str | None = None


class Outcome(Enum):
    READY = "ready"
    EXITED = "exited"
    TIMEOUT = "timeout"


# --- Postgres ----------------------------------------------------------------------------------


def psql_argv(target: Target, database: str) -> list[str]:
    """psql without a psqlrc, quiet, unaligned, stopping on the first error; socket when there is one."""
    assert target.psql is not None
    host = target.socket_dir or target.host
    options = ["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1"]
    return [target.psql, *options, "-h", host, "-p", str(target.port), "-U", target.user, "-d", database]


def psql_env() -> dict[str, str]:
    """The caller's environment without libpq settings that would redirect psql elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "3"
    return env


def _postmaster_says_ready(data_dir: Path) -> bool | None:
    """Line 8 of postmaster.pid is the server's own status ("ready" once it accepts connections).

    None when the file cannot be read (then only psql decides).
    """
    try:
        lines = (data_dir / "postmaster.pid").read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return False
    except OSError:
        return None
    return len(lines) >= 8 and lines[7].strip() == "ready"


def postgres(target: Target) -> bool:
    if _postmaster_says_ready(target.data_dir) is False:
        return False
    if target.psql is None:
        return _accepts(target.host, target.port)
    try:
        done = subprocess.run(
            [*psql_argv(target, "postgres"), "-c", "SELECT 1"],
            capture_output=True,
            env=psql_env(),
            timeout=5,
            check=False,
        )
    except (*_UNREACHABLE, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == b"1"


# --- Redis -------------------------------------------------------------------------------------


# What a probe of a bad address raises (a port above 65535 is an OverflowError): "not ready".
_UNREACHABLE = (OSError, ValueError, OverflowError, TypeError)


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except _UNREACHABLE:
        return False


def redis(target: Target) -> bool:
    try:
        with socket.create_connection((target.host, target.port), timeout=1) as conn:
            conn.sendall(b"*1\r\n$4\r\nPING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except _UNREACHABLE:
        return False


# --- HTTP --------------------------------------------------------------------------------------


def http(target: Target) -> bool:
    # Imported here: urllib pulls in http.client and email, which `riso up` for Postgres and
    # Redis alone never needs.
    import urllib.error
    import urllib.request

    url = f"http://{target.host}:{target.port}{target.path or '/'}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=2) as response:
            status: int = response.status
            return 200 <= status < 300
    except (urllib.error.URLError, *_UNREACHABLE):
        return False


CHECKS: dict[str, Callable[[Target], bool]] = {"postgres": postgres, "redis": redis, "http": http}


def check(kind: str, target: Target) -> bool:
    return CHECKS[kind](target)


def wait(probe: Callable[[], bool], alive: Callable[[], bool], timeout: float) -> Outcome:
    """Poll `probe` until it passes, the process dies, or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        if not alive():
            return Outcome.EXITED
        if probe():
            return Outcome.READY
        if time.monotonic() >= deadline:
            return Outcome.TIMEOUT
        time.sleep(delay)
        # Short and flat: every check is cheap (a file read, a socket, one HTTP GET; Postgres
        # spawns psql only once its postmaster.pid says "ready"), and a long backoff step
        # would add its own latency to each start.
        delay = min(delay * 1.5, 0.02)
