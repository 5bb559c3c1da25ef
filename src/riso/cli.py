"""The `riso` command: parses arguments, calls the library, prints with rich. Nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from riso import config as config_mod
from riso import plan as plan_mod
from riso.errors import RisoError
from riso.plan_model import Plan

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Declare services once; run them anywhere.")
out = Console()
err = Console(stderr=True)


@app.callback()
def _root() -> None:
    """riso: declare a Python service project's features once; get its code, services and tests."""


def current_plan(root: Path) -> Plan:
    """RISO_PLAN (from `nix develop`) when set, else computed from [tool.riso]."""
    env_plan = os.environ.get("RISO_PLAN")
    if env_plan:
        return plan_mod.load(Path(env_plan))
    return plan_mod.build(config_mod.load(root))


@app.command()
def plan(json_: bool = typer.Option(False, "--json", help="Print the plan as JSON.")) -> None:
    """Show the service plan for this project."""
    the_plan = current_plan(config_mod.find_project_root())
    if json_:
        print(plan_mod.to_json(the_plan), end="")
        return
    for svc in the_plan.services:
        out.print(f"[bold]{svc.name}[/] port={svc.port or 'auto'} depends_on={svc.depends_on or '-'}")


def main() -> None:
    try:
        app()
    except RisoError as problem:
        err.print(f"[red]error:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
        raise SystemExit(problem.exit_code) from None
