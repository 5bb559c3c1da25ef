"""Helpers for the fault tests: what runs in a folder (found by scanning /proc), psql, waiting."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from riso.runner import process


def working_in(folder: Path) -> list[int]:
    """Live processes (zombies count as dead) whose working folder is `folder` or below it; a
    relocated data dir is followed through its symlink."""
    return sorted(process.find_under(process.real(folder)))


def pids_of(*folders: Path) -> list[int]:
    return sorted({pid for folder in folders for pid in working_in(folder)})


def wait_for(check: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)
    return value


def psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", url, "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("PG")},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def exports(text: str) -> dict[str, str]:
    """The values a shell sees after `eval`-ing `riso env` output (or sourcing a dotenv file)."""
    script = f"set -a\n{text}\nenv -0"
    done = subprocess.run(["bash", "-c", script], capture_output=True, timeout=30, check=True, env={"PATH": os.environ["PATH"]})
    pairs = [item.split(b"=", 1) for item in done.stdout.split(b"\0") if b"=" in item]
    return {k.decode(): v.decode() for k, v in pairs}
