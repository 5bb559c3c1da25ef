"""`riso plan`: show the service plan."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from riso import config as config_mod
from riso import plan as plan_mod
from riso.cli.output import out
from riso.plan_model import Plan


def current_plan(root: Path) -> Plan:
    """RISO_PLAN (from `nix develop`) when set, else computed from [tool.riso]."""
    env_plan = os.environ.get("RISO_PLAN")
    if env_plan:
        return plan_mod.load(Path(env_plan))
    return plan_mod.build(config_mod.load(root))


def show_plan(json_: bool = typer.Option(False, "--json", help="Print the plan as JSON.")) -> None:
    """Show the service plan for this project."""
    the_plan = current_plan(config_mod.find_project_root())
    if json_:
        print(plan_mod.to_json(the_plan), end="")
        return
    for svc in the_plan.services:
        out.print(f"[bold]{svc.name}[/] port={svc.port or 'auto'} depends_on={svc.depends_on or '-'}")


def register(app: typer.Typer) -> None:
    app.command("plan")(show_plan)
