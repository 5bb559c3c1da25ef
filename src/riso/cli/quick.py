"""The everyday commands without Typer, rich or pydantic: `riso env`, `status`, `up -d`, `plan --json`.

`up -d` takes its options (`--allow-missing`, `--services-only`) and names of services and
processes; `status` shows both.

`parse(argv)` recognises exactly these invocations (their options in any order, as Typer accepts
them); anything else, `--help` included, returns None and goes to the Typer app, which parses,
explains and fails as always. What is recognised runs the same library calls as the commands in
riso.cli.services and riso.cli.plan and prints the same bytes (tests/core/test_quick_cli.py
compares the two paths); the plan comes from riso.plan_cache.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from riso.cli.output import failure_text, line, problem, status_line
from riso.errors import RisoError

if TYPE_CHECKING:
    from riso.runner import Runner, UpResult

Command = Callable[[], int]


def _flags(args: Sequence[str], allowed: set[str]) -> set[str] | None:
    return set(args) if set(args) <= allowed else None


def parse(argv: Sequence[str]) -> Command | None:
    """The command for `riso <argv>` when it is one of the everyday ones, else None."""
    if not argv:
        return None
    name, args = argv[0], argv[1:]
    if name == "env" and (given := _flags(args, {"--dotenv"})) is not None:
        return functools.partial(env, dotenv="--dotenv" in given)
    if name == "status" and (given := _flags(args, {"--json"})) is not None:
        return functools.partial(status, json_="--json" in given)
    if name == "plan" and args and _flags(args, {"--json"}) is not None:
        return plan_json
    if name == "up":
        options = {a for a in args if a.startswith("-")}
        services = [a for a in args if not a.startswith("-")]
        if options & {"-d", "--detach"} and options <= {"-d", "--detach", "--allow-missing", "--services-only"}:
            return functools.partial(
                up_detached,
                services,
                allow_missing="--allow-missing" in options,
                services_only="--services-only" in options,
            )
    return None


def run(command: Command) -> int:
    """Run `command`; a RisoError (or an OSError, as riso.cli.services turns it) is one `error:` line."""
    try:
        return command()
    except RisoError as fault:
        problem("error:", "red", str(fault).expandtabs())
        return fault.exit_code
    except OSError as fault:
        where = f": {fault.filename}" if fault.filename else ""
        problem("error:", "red", f"{fault.strerror or fault}{where}".expandtabs())
        return 1


def _runner(allow_missing: bool = False) -> Runner:
    from riso import plan_cache
    from riso.runner import Runner

    root = plan_cache.project_root()
    return Runner(plan_cache.load(root).plan, root, allow_missing=allow_missing)


# --- the commands (each prints what its Typer twin prints) ----------------------------------------


def plan_json() -> int:
    from riso import plan_cache

    sys.stdout.write(plan_cache.load(plan_cache.project_root()).json)
    return 0


def env(dotenv: bool) -> int:
    from riso.runner import envfile

    exports = _runner().env()
    sys.stdout.write(envfile.dotenv(exports) if dotenv else envfile.shell(exports))
    return 0


def status(json_: bool) -> int:
    runner = _runner()
    statuses = runner.status()
    failing = runner.failing(statuses)
    if json_:
        print(json.dumps([s.to_dict() for s in statuses], indent=2))
    else:
        for s in statuses:
            line(status_line(s))
    for s in failing:
        problem("error:", "red", failure_text(s))
    return 1 if failing else 0


def _warn(runner: Runner) -> None:
    for warning in runner.warnings:
        problem("warning:", "yellow", warning)
    runner.warnings.clear()


def _report(result: UpResult, runner: Runner) -> None:
    _warn(runner)
    for name, why in result.skipped.items():
        problem("warning:", "yellow", f"skipping {name}: {why}")
    if result.started:
        ports = {s.name: s.port for s in runner.status(probe=False)}
        line(f"ready: {', '.join(f'{n} (port {ports[n]})' if ports.get(n) else n for n in result.started)}")
    if result.already_running and not result.started:
        line(f"already running: {', '.join(result.already_running)}; nothing changed")
    elif result.already_running:
        line(f"already running: {', '.join(result.already_running)}")


def up_detached(services: list[str], allow_missing: bool, services_only: bool = False) -> int:
    runner = _runner(allow_missing)
    _report(runner.up(services or None, services_only=services_only), runner)
    return 0
