"""`riso up`, `down`, `status`, `logs`, `env`, `doctor`: the service runner's commands."""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.markup import escape

from riso.cli.output import err, failure_text, out, status_line
from riso.cli.plan import current_plan
from riso.config import find_project_root
from riso.errors import RisoError

if TYPE_CHECKING:  # the runner is imported by the commands that use it, not by every `riso` command
    from riso.runner import Runner, UpResult

F = TypeVar("F", bound=Callable[..., Any])


def _friendly(command: F) -> F:
    """OS errors (permissions, a full disk) become one `error:` line like every RisoError."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OSError as problem:
            where = f": {problem.filename}" if problem.filename else ""
            raise RisoError(f"{problem.strerror or problem}{where}") from None

    return wrapper  # type: ignore[return-value]


def _runner(allow_missing: bool = False) -> Runner:
    from riso.runner import Runner

    root = find_project_root()
    return Runner(current_plan(root), root, allow_missing=allow_missing)


@contextlib.contextmanager
def _shielded() -> Iterator[None]:
    """Ctrl-C and SIGTERM do not abort a stop once it runs (a stop is bounded: graceful signal,
    then SIGKILL after the service's timeout); a half-done stop would leave servers running."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _down(runner: Runner, **kwargs: Any) -> list[str]:
    with _shielded():
        stopped = runner.down(**kwargs)
    _warn(runner)
    return stopped


def _warn(runner: Runner) -> None:
    for warning in runner.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    runner.warnings.clear()


def _report(result: UpResult, runner: Runner) -> None:
    _warn(runner)
    for name, why in result.skipped.items():
        err.print(f"[yellow]warning:[/] skipping {name}: {escape(why)}", soft_wrap=True)
    if result.started:
        ports = {s.name: s.port for s in runner.status(probe=False)}
        shown = ", ".join(f"{n} (port {ports[n]})" if ports.get(n) else n for n in result.started)
        out.print(f"ready: {shown}", soft_wrap=True)
    if result.already_running and not result.started:
        out.print(f"already running: {', '.join(result.already_running)}; nothing changed", soft_wrap=True)
    elif result.already_running:
        out.print(f"already running: {', '.join(result.already_running)}", soft_wrap=True)


def _foreground(runner: Runner, services: list[str] | None, services_only: bool = False) -> None:
    """Start, stay until Ctrl-C or SIGTERM (or a crash), then stop everything."""
    stop = threading.Event()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() or not watching:
            raise KeyboardInterrupt
        stop.set()

    watching = False
    previous = signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    crashed: str | None = None
    before = {s.name for s in runner.status(probe=False) if s.state == "running"}
    try:
        try:
            result = runner.up(services, services_only=services_only)
        except RisoError:
            # A failed start stops what this command started; what ran before it keeps running.
            names = [s.name for s in runner.plan.services] + [p.name for p in runner.plan.processes]
            _down(runner, services=[n for n in names if n not in before])
            raise
        _report(result, runner)
        if not result.started:
            return
        out.print("Ctrl-C stops them.")
        watching = True
        crashed = runner.watch(stop)
    except KeyboardInterrupt:
        pass
    finally:
        watching = False
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, previous)
    stopped = _down(runner)
    if stopped:
        out.print(f"stopped: {', '.join(stopped)}")
    if crashed:
        raise RisoError(f"{crashed} stopped unexpectedly", f"`riso logs {crashed}` shows why")


@_friendly
def up(
    services: Annotated[
        list[str] | None,
        typer.Argument(
            help="Services or processes to start (default: all), with dependencies.", metavar="SERVICE_OR_PROCESS"
        ),
    ] = None,
    detach: bool = typer.Option(False, "--detach", "-d", help="Return once ready; everything keeps running."),
    allow_missing: bool = typer.Option(
        False, "--allow-missing", help="Skip services whose binary (processes whose command) is absent."
    ),
    services_only: bool = typer.Option(
        False, "--services-only", help="Start the services but not the project's processes (run the app yourself)."
    ),
) -> None:
    """Start the project's services, then its processes (the app, ...), and wait until each is ready."""
    runner = _runner(allow_missing)
    if detach:
        _report(runner.up(services or None, services_only=services_only), runner)
    else:
        _foreground(runner, services or None, services_only)


@_friendly
def down(volumes: bool = typer.Option(False, "--volumes", help="Also delete the services' data.")) -> None:
    """Stop the project's processes, then its services (reverse start order); data stays unless --volumes."""
    runner = _runner()
    stopped = _down(runner, volumes=volumes)
    out.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    if volumes:
        out.print("data deleted")


@_friendly
def status(json_: bool = typer.Option(False, "--json", help="Print the status as JSON.")) -> None:
    """Show each service's and process's state; exits 1 when one that should run is crashed or stopped."""
    runner = _runner()
    statuses = runner.status()
    failing = runner.failing(statuses)
    if json_:
        print(json.dumps([s.to_dict() for s in statuses], indent=2))
    else:
        for s in statuses:
            out.print(escape(status_line(s)))
    for s in failing:
        err.print(f"[red]error:[/] {escape(failure_text(s))}", soft_wrap=True)
    if failing:
        raise typer.Exit(1)


@_friendly
def logs(
    service: str | None = typer.Argument(None, help="One service or process (default: all).", metavar="NAME"),
    follow_: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
) -> None:
    """Print the logs of the services and processes (.riso/logs/)."""
    from riso.runner import follow

    files = _runner().log_files(service)
    prefix = len(files) > 1
    try:
        for name, line in follow(files, follow_):
            print(f"{name:<10} | {line}" if prefix else line, flush=follow_)
    except KeyboardInterrupt:
        pass


@_friendly
def env(dotenv: bool = typer.Option(False, "--dotenv", help="NAME=value lines for a .env file.")) -> None:
    """Print the exports of the services and processes: `eval "$(riso env)"`, or `riso env --dotenv > .env`."""
    from riso.runner import envfile

    exports = _runner().env()
    print(envfile.dotenv(exports) if dotenv else envfile.shell(exports), end="")


@_friendly
def doctor() -> None:
    """Check binaries, versions, ports and the state in .riso/."""
    from riso import doctor as doctor_mod

    colours = {"ok": "green", "warn": "yellow", "fail": "red"}
    checks = doctor_mod.run(_runner())
    for check in checks:
        hint = f" ({escape(check.hint)})" if check.hint else ""
        out.print(
            f"[{colours[check.level]}]{check.level:<4}[/] {check.subject:<16} {escape(check.detail)}{hint}",
            soft_wrap=True,
        )
    if any(c.level == "fail" for c in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("down")(down)
    app.command("status")(status)
    app.command("logs")(logs)
    app.command("env")(env)
    app.command("doctor")(doctor)
