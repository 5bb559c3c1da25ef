"""The `riso` command: parses arguments, calls the library, prints with rich. Nothing else.

Each sub-module registers one group of commands on `app`.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from riso.cli import containers, generate, plan, services
from riso.cli.output import err
from riso.errors import RisoError

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def _root() -> None:
    """riso: declare a Python service project's features once; get its code, services and tests."""


for module in (plan, services, generate, containers):
    module.register(app)


def main() -> None:
    try:
        app()
    except RisoError as problem:
        err.print(f"[red]error:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
        raise SystemExit(problem.exit_code) from None
