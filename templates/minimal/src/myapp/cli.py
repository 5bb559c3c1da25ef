"""The command line: `myapp COMMAND`,
or `python -m myapp COMMAND`.

`check` is always there; each feature adds its commands (`<feature>/feature.py`).
Exit codes: 0 success, 1 a dependency or item failed, 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from contextlib import ExitStack

import myapp
from myapp.core.config import Settings
from myapp.core.health import Readiness
from myapp.core.registry import Command
from myapp.core.resources import open_resources
from myapp.core.settings import read_settings
from myapp.features import FEATURES

CHECK = "check"


def commands() -> dict[str, Command]:
    return {command.name: command for feature in FEATURES for command in feature.commands}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="myapp",
        description=myapp.__doc__,
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    subparsers.add_parser(CHECK, help="validate the settings and probe every dependency")
    for command in commands().values():
        command.configure(subparsers.add_parser(command.name, help=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = read_settings(Settings)
    if isinstance(settings, str):
        print(settings, file=sys.stderr)
        return 2
    command = commands().get(args.command)
    if command is not None and command.run_sync is not None:
        return command.run_sync(args, settings)
    with ExitStack() as stack:
        finished = [
            stack.enter_context(feature.around(settings, args.command))
            for feature in FEATURES
            if feature.around is not None
        ]
        try:
            code = asyncio.run(run(args, settings, command))
        except Exception as error:
            reason = explained(error)
            if reason is None:
                raise
            print(f"error: {reason}", file=sys.stderr)
            code = 1
        for report in finished:
            report(code)
        return code


def explained(error: BaseException) -> str | None:
    """The one line a feature gives for `error` (its dependency failed), or None."""
    for feature in FEATURES:
        reason = feature.explain(error) if feature.explain is not None else None
        if reason is not None:
            return reason
    return None


async def run(args: argparse.Namespace, settings: Settings, command: Command | None) -> int:
    async with open_resources(settings) as resources:
        if command is None or command.run is None:
            probes = Readiness(resources.probes, 5, 0, optional=resources.optional)
            return await check(probes)
        return await command.run(args, settings, resources)


async def check(readiness: Readiness) -> int:
    """0 when every dependency answers; 1 when one does not, optional ones included (the
    service would run degraded: /readyz says so but stays ready)."""
    report = await readiness.check()
    print(report.body.decode())
    return 0 if report.status == "ready" else 1
