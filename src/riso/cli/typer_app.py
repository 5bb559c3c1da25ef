"""The Typer app: every command, and the help. Each sub-module registers one group of commands on `app`."""

from __future__ import annotations

import typer

from riso.cli import containers, generate, plan, scan, secrets, services

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.callback()
def _root() -> None:
    """riso: declare a Python service project's features once; get its code, services and tests."""


for module in (plan, services, generate, containers, scan, secrets):
    module.register(app)
