"""A project's lock, made and checked with its package manager (uv by default, or Poetry).

`lock` resolves the project's dependencies into `uv.lock` / `poetry.lock` (needs the package index);
`lock_matches` says, without the network, whether the committed lock still fits `pyproject.toml`.
The managers are found on PATH, or named by `$RISO_UV` / `$RISO_POETRY` (a command line).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from riso.errors import RisoError


@dataclass(frozen=True)
class Manager:
    name: str
    lock_file: str
    env_var: str
    install_hint: str
    lock_args: tuple[str, ...]
    check_args: tuple[str, ...]


UV = Manager(
    name="uv",
    lock_file="uv.lock",
    env_var="RISO_UV",
    install_hint="install uv (https://docs.astral.sh/uv/: `pipx install uv` or `pip install uv`)",
    lock_args=("lock", "--quiet"),
    check_args=("lock", "--check", "--offline", "--quiet"),
)
POETRY = Manager(
    name="poetry",
    lock_file="poetry.lock",
    env_var="RISO_POETRY",
    install_hint="install Poetry 2 (`pipx install poetry`)",
    lock_args=("lock", "--no-interaction"),
    check_args=("check", "--lock", "--no-interaction"),
)
MANAGERS = {m.name: m for m in (UV, POETRY)}
LOCK_TIMEOUT = 1800.0
CHECK_TIMEOUT = 300.0


def manager(name: str) -> Manager:
    if name not in MANAGERS:
        raise RisoError(f"unknown package manager {name!r}", f"use one of: {', '.join(MANAGERS)}")
    return MANAGERS[name]


def _command(tool: Manager) -> list[str]:
    override = shlex.split(os.environ.get(tool.env_var, ""))
    if override:
        return override
    found = shutil.which(tool.name)
    if found is None:
        problem = f"{tool.name} is not on PATH; the project's {tool.lock_file} is made with it"
        raise RisoError(problem, tool.install_hint)
    return [found]


def _environment() -> dict[str, str]:
    # The project is locked on its own, not in whatever environment riso itself runs in.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "POETRY_ACTIVE", "UV_PROJECT_ENVIRONMENT")}
    env["POETRY_VIRTUALENVS_CREATE"] = "false"
    return env


def _run(tool: Manager, folder: Path, args: tuple[str, ...], timeout: float) -> subprocess.CompletedProcess[str]:
    where = ("--directory", str(folder))
    try:
        return subprocess.run(
            [*_command(tool), *args, *where],
            cwd=folder,
            capture_output=True,
            text=True,
            env=_environment(),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RisoError(f"{tool.name} {args[0]} timed out after {timeout:.0f}s in {folder}") from None


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {done.returncode}"


def lock(folder: Path, name: str) -> Path:
    """Resolve the project in `folder` into its lock file; RisoError (one line) when resolution fails."""
    tool = manager(name)
    done = _run(tool, folder, tool.lock_args, LOCK_TIMEOUT)
    path = folder / tool.lock_file
    if done.returncode != 0 or not path.is_file():
        raise RisoError(
            f"`{tool.name} lock` failed in {folder}: {_last_line(done)}",
            f"check the network to the package index, then run `{tool.name} lock` in the project",
        )
    return path


def lock_matches(folder: Path, name: str) -> bool:
    """Whether the committed lock in `folder` still fits its pyproject.toml (no network)."""
    tool = manager(name)
    if not (folder / tool.lock_file).is_file():
        return False
    return _run(tool, folder, tool.check_args, CHECK_TIMEOUT).returncode == 0
