"""`riso devcontainer`: rewrite the project's container files (devcontainer, Compose, Dockerfile, CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riso import config
from riso.cli.output import out

_HERE = Path()


def register(app: typer.Typer) -> None:
    app.command("devcontainer")(devcontainer)


def devcontainer(
    flavour: Annotated[
        str | None,
        typer.Option(
            "--flavour", help="First switch the manifest's devcontainer flavour: compose or nix.", show_default=False
        ),
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 when a file is out of date.")] = False,
    path: Annotated[Path, typer.Option("--path", help="A folder inside the project.")] = _HERE,
) -> None:
    """Re-render .devcontainer/, docker-compose.yml, Dockerfile, .dockerignore and .github/ from the manifest."""
    from riso import containers  # imported here: the other commands must not pay for Copier's stack

    root = config.find_project_root(path)
    result = containers.sync(root, flavour, check=check)
    for rel in result.changed:
        out.print(f"{_verb('create' if rel in result.created else 'update', check)} {rel}", markup=False)
    for rel in result.removed:
        out.print(f"{_verb('remove', check)} {rel}", markup=False)
    if result.manifest_changed:
        action = "would set" if check else "set"
        out.print(f"{action} [tool.riso.devcontainer] flavour = {result.flavour!r}", markup=False)
    if result.in_sync:
        out.print(f"container files are up to date (flavour {result.flavour})", markup=False)
    elif check:
        raise typer.Exit(1)


def _verb(word: str, check: bool) -> str:
    """create -> "created", or "would create" when nothing is written."""
    return f"would {word}" if check else f"{word}d"
