"""`riso new`, `riso add`, `riso update`, `riso features`, `riso templates sync`, `riso check --matrix`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from riso import generate as gen
from riso.cli.output import out
from riso.errors import RisoError
from riso.features import FEATURES, implied_services


def _say(message: str) -> None:
    out.print(message, soft_wrap=True)


def new(
    path: Annotated[Path, typer.Argument(help="Folder to create (must be new or empty).")],
    template: Annotated[str, typer.Option("--template", "-t", help=f"Starter: {', '.join(gen.TEMPLATES)}.")],
    with_: Annotated[
        list[str] | None, typer.Option("--with", help="Extra features, comma-separated or repeated.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Project name (default: the folder's name).")] = None,
    defaults: Annotated[bool, typer.Option("--defaults", help="Answer every other question with its default.")] = False,
    no_git: Annotated[bool, typer.Option("--no-git", help="Do not make the folder a git repository.")] = False,
) -> None:
    """Create a project from a starter template."""
    project = gen.new(
        path,
        template=template,
        extra_features=gen.parse_feature_list(with_ or []),
        name=name,
        defaults=defaults or not sys.stdin.isatty(),
        git_init=not no_git,
    )
    features = ", ".join(project.features) or "none"
    _say(f"Created {escape(project.project_name)} in {escape(str(project.path))} (features: {features})")
    _say(f"Next: cd {escape(str(path))} && riso up && pytest")


def add(features: Annotated[list[str], typer.Argument(help="Features to add, e.g. database cache.")]) -> None:
    """Add features to the project in this folder: code, dependencies, manifest and services follow."""
    root = gen.project_root()
    result = gen.add(root, gen.parse_feature_list(features))
    for name in result.present:
        _say(f"Feature {name!r} is already present; nothing to do for it.")
    if result.added:
        services = ", ".join(implied_services(result.added)) or "none"
        _say(f"Added {', '.join(result.added)} (new services: {services}). Review with `git diff`, then commit.")


def update() -> None:
    """Merge the installed blueprint's changes into this project, keeping your edits."""
    result = gen.update(gen.project_root())
    if result.old == result.new and not result.changed:
        _say(f"Already up to date with blueprint {result.new}.")
        return
    _say(f"Updated from blueprint {result.old} to {result.new}: {len(result.changed)} file(s) changed.")
    if result.conflicts:
        listed = ", ".join(result.conflicts)
        raise RisoError(f"conflicts in {listed}", "resolve the <<<<<<< markers, then `git add` and commit")


def features() -> None:
    """List the features and the starter templates."""
    for feature in FEATURES.values():
        services = ", ".join(feature.services) or "-"
        _say(f"[bold]{feature.name:<11}[/] {escape(feature.summary)}  (services: {services})")
    _say("")
    for name, members in gen.TEMPLATES.items():
        _say(f"template [bold]{name:<8}[/] {', '.join(members)}")


def register(app: typer.Typer) -> None:
    app.command("new")(new)
    app.command("add")(add)
    app.command("update")(update)
    app.command("features")(features)
