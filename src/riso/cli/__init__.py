"""The `riso` command: parses arguments, calls the library, prints. Nothing else.

`main` answers the everyday commands (`riso env`, `status`, `up -d`, `plan --json`: riso.cli.quick)
without loading Typer, rich or pydantic; every other command, and all help, goes to the Typer app
(riso.cli.typer_app). Ctrl-C before a command has taken over SIGINT exits 130 without a traceback.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer

INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _typer_app() -> int:
    from riso.cli.output import err
    from riso.cli.typer_app import app
    from riso.errors import RisoError

    try:
        app()
    except RisoError as problem:
        from rich.markup import escape

        err.print(f"[red]error:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
        return problem.exit_code
    return 0


def main() -> None:
    argv = sys.argv[1:]
    try:
        from riso.cli import quick

        command = quick.parse(argv)
        code = quick.run(command) if command is not None else _typer_app()
    except KeyboardInterrupt:
        code = INTERRUPTED
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left (`riso env | head -1`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(code)


def __getattr__(name: str) -> Any:
    """`riso.cli.app` (the Typer app) is loaded when asked for."""
    if name == "app":
        from riso.cli.typer_app import app

        return app
    raise AttributeError(name)


if TYPE_CHECKING:
    app: typer.Typer
