"""post_start hooks: create databases and run SQL through psql, run commands. Each is idempotent.

Setup hooks (create_database, sql) run after init and again whenever the plan's setup hooks change
(like services-flake's and devenv's initial databases, plus a re-run on change); the runner keeps
their fingerprint in `.riso/run/<service>.setup`. Command hooks (`alembic upgrade head`) run on
every start. Consecutive SQL hooks on one database go to psql as one script.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeGuard, cast

from riso.errors import RisoError
from riso.runner import probes

if TYPE_CHECKING:  # the models load pydantic; hooks only read them
    from riso.plan_model import Command, Hook, Sql

Batch = tuple[str, list[str], list[str]]  # (database, script parts, descriptions)


def _is_command(hook: Hook | Batch | Command) -> TypeGuard[Command]:
    return getattr(hook, "type", None) == "command"


def setup_fingerprint(hooks: list[Hook]) -> str:
    """The setup hooks as canonical JSON: equal text means equal setup."""
    setup = [h.model_dump() for h in hooks if not _is_command(h)]
    return json.dumps(setup, sort_keys=True)


def still_to_run(hooks: list[Hook], setup_done: bool) -> list[Hook]:
    """Every hook, or only the commands when the same setup already ran on this data."""
    return [h for h in hooks if _is_command(h) or not setup_done]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _create_database(name: str) -> str:
    # \gexec runs the generated statement only when the database does not exist yet.
    return (
        f"SELECT format('CREATE DATABASE %I', {_literal(name)}) "
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {_literal(name)})\\gexec\n"
    )


def _sql(text: str) -> str:
    text = text.strip()
    return text + ("\n" if text.endswith(";") else ";\n")


def _batches(hooks: list[Hook]) -> list[Batch | Command]:
    """Consecutive SQL-ish hooks on the same database merged; commands kept apart, order kept."""
    out: list[Batch | Command] = []
    for hook in hooks:
        if _is_command(hook):
            out.append(hook)
            continue
        if hook.type == "create_database":
            name = hook.name
            database, part, label = "postgres", _create_database(name), f"create_database {name}"
        else:
            sql = cast("Sql", hook)
            database, part, label = sql.database, _sql(sql.sql), f"sql on {sql.database}"
        last = out[-1] if out else None
        if isinstance(last, tuple) and last[0] == database:
            last[1].append(part)
            last[2].append(label)
        else:
            out.append((database, [part], [label]))
    return out


def _problem_line(output: bytes) -> str:
    """psql's ERROR/FATAL line (not the caret under it), else the last line of output."""
    lines = [line.strip() for line in output.decode(errors="replace").splitlines() if line.strip()]
    flagged = [line for line in lines if "ERROR:" in line or "FATAL:" in line]
    return (flagged or lines or ["no output"])[0 if flagged else -1]


def _run_psql(service: str, target: probes.Target, batch: Batch, timeout: float) -> None:
    database, parts, labels = batch
    if target.psql is None:
        raise RisoError(f"{service}: post_start hooks need psql, which the plan does not name")
    try:
        done = subprocess.run(
            [*probes.psql_argv(target, database), "-f", "-"],
            input="".join(parts).encode(),
            capture_output=True,
            env=probes.psql_env(),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RisoError(f"{service}: post_start hook {labels[0]} did not finish within {timeout:.0f}s") from None
    if done.returncode != 0:
        raise RisoError(f"{service}: post_start hook ({', '.join(labels)}) failed: {_problem_line(done.stderr)}")


def _run_command(
    service: str, hook: Command, expand: Callable[[str], str], env: Mapping[str, str], cwd: Path, timeout: float
) -> None:
    argv = [expand(a) for a in hook.argv]
    try:
        done = _run_group(argv, env=dict(env), cwd=cwd, timeout=timeout)
    except (OSError, ValueError) as problem:  # ValueError: a NUL byte in an argument
        why = problem.strerror if isinstance(problem, OSError) else str(problem)
        raise RisoError(f"{service}: post_start command {argv[0]!r} cannot run: {why}") from None
    except subprocess.TimeoutExpired:
        raise RisoError(f"{service}: post_start command {argv[0]} did not finish within {timeout:.0f}s") from None
    if done.returncode != 0:
        last = _problem_line(done.stderr or done.stdout)
        raise RisoError(f"{service}: post_start command {' '.join(argv)} exited {done.returncode}: {last}")


def _unblock_interrupts() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _run_group(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Like subprocess.run(capture_output=True), but the command gets a process group of its own,
    killed whole when anything (a timeout, Ctrl-C) ends the wait: nothing it started is left.

    In the main thread Ctrl-C is held back while the child is created, so it cannot land between
    the fork and the moment its pid is known (the child starts with it unblocked again).
    """
    main = threading.current_thread() is threading.main_thread()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if main else None
    try:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_unblock_interrupts if main else None,
        )
    except BaseException:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    try:
        if held is not None:  # a Ctrl-C held back lands here, with the pid known
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def run(
    service: str,
    hooks: list[Hook],
    target: probes.Target,
    *,
    expand: Callable[[str], str],
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 600.0,
) -> None:
    """Run `hooks` in order; the first failure raises RisoError naming the service and hook."""
    for item in _batches(hooks):
        if isinstance(item, tuple):
            _run_psql(service, target, item, timeout)
        else:
            _run_command(service, item, expand, env, cwd, timeout)
