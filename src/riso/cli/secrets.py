"""`riso secrets`: make a key, and set, edit, list and remove the project's encrypted secrets.

Values are read from stdin or a hidden prompt (never from the command line, where `ps` and shell
history would keep them) and printed only by `list --show`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from riso.cli.output import err, out

if TYPE_CHECKING:
    from riso.secrets.vault import Vault

_HERE = Path()
Env = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        help="local, test, staging or production (default: $ENVIRONMENT, else local).",
        show_default=False,
    ),
]
Where = Annotated[Path, typer.Option("--path", help="A folder inside the project.")]

secrets_app = typer.Typer(no_args_is_help=True, help="Encrypted secrets in the repository (age).")


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")


def _say(text: str) -> None:
    out.print(text, markup=False, soft_wrap=True)


def _vault(path: Path) -> Vault:
    from riso import config
    from riso.secrets.vault import Vault

    return Vault(config.find_project_root(path))


def _environment(env: str | None) -> str:
    from riso.secrets.vault import check_environment

    return check_environment(env or os.environ.get("ENVIRONMENT") or "local")


@secrets_app.command("init")
def init(path: Where = _HERE) -> None:
    """Make an age key (never replacing one) and add its public key to secrets/recipients.txt."""
    from riso.secrets.keys import create_key

    vault = _vault(path)
    key = create_key()
    if key.created:
        _say(f"created the age key {key.path} (mode 0600): keep it safe, it is not in the repository")
    else:
        _say(f"kept the age key already at {key.path}")
    if vault.add_recipient(key.recipient):
        _say(f"added {key.recipient} to secrets/recipients.txt")
        if vault.existing():
            _say(
                "files encrypted before are not readable with it yet: someone who can read them runs "
                "`riso secrets rekey`"
            )
    else:
        _say(f"{key.recipient} is already in secrets/recipients.txt")


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        value = typer.prompt(f"{name}", hide_input=True, confirmation_prompt=True, err=True)
    else:
        value = sys.stdin.read()
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
    return str(value)


@secrets_app.command("set")
def set_(
    name: Annotated[str, typer.Argument(help="The setting's environment variable name, e.g. DATABASE_URL.")],
    env: Env = None,
    path: Where = _HERE,
) -> None:
    """Set NAME from stdin (e.g. `riso secrets set DATABASE_URL < file`) or a hidden prompt."""
    from riso.errors import RisoError
    from riso.secrets.envfile import check_name
    from riso.secrets.keys import find_key

    environment = _environment(env)
    check_name(name)
    vault = _vault(path)
    key = find_key()
    value = _read_value(name)
    if not value:
        raise RisoError(f"no value for {name}", "give it on stdin or at the prompt; `riso secrets rm` removes one")
    changed = vault.set(environment, name, value, key)
    where = vault.relative(vault.path(environment))
    _say(f"{'set' if changed else 'unchanged:'} {name} in {where}")


@secrets_app.command("edit")
def edit(env: Env = None, path: Where = _HERE) -> None:
    """Edit an environment's secrets in $EDITOR (decrypted only in a private temporary folder)."""
    from riso.secrets.edit import in_editor
    from riso.secrets.keys import find_key

    environment = _environment(env)
    vault = _vault(path)
    key = find_key()
    changed = vault.change(environment, key, in_editor)
    where = vault.relative(vault.path(environment))
    _say(f"{'re-encrypted' if changed else 'no change to'} {where}")


@secrets_app.command("list")
def list_(
    env: Annotated[
        str | None, typer.Option("--env", "-e", help="One environment (default: all).", show_default=False)
    ] = None,
    show: Annotated[bool, typer.Option("--show", help="Print the values too.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when a required secret is missing.")] = False,
    path: Where = _HERE,
) -> None:
    """The secrets each environment sets, and the declared ones it misses (names only unless --show)."""
    from rich.markup import escape
    from rich.table import Table

    from riso.errors import RisoError
    from riso.secrets.declared import declared, rows
    from riso.secrets.keys import find_key
    from riso.secrets.vault import ENVIRONMENTS, check_environment

    vault = _vault(path)
    environments = [check_environment(env)] if env else list(ENVIRONMENTS)
    key = find_key() if any(vault.path(e).exists() for e in environments) else None
    table = Table("environment", "name", "status", *(["value"] if show else []), box=None)
    missing = 0
    known = declared(vault.root)
    for environment in environments:
        has_file = vault.path(environment).exists()
        if not has_file and not any(environment in d.required for d in known.values()):
            continue
        values = vault.values(environment, key) if has_file and key is not None else None
        for row in rows(known, environment, values, show):
            if row.present:
                status = "[green]set[/]" if row.declared else "set (not declared)"
            elif row.required:
                status, missing = "[red]missing[/]", missing + 1
            else:
                status = "not set"
            shown = [escape(row.value or "")] if show else []
            table.add_row(row.environment, row.name, status, *shown)
    if table.row_count:
        out.print(table)
    else:
        _say("no secrets yet: `riso secrets set NAME --env ENV` sets one")
    if missing and check:
        raise RisoError(f"{missing} required secret(s) missing", "set them with `riso secrets set NAME --env ENV`")


@secrets_app.command("rm")
def rm(
    name: Annotated[str, typer.Argument(help="The secret's name.")],
    env: Env = None,
    path: Where = _HERE,
) -> None:
    """Remove NAME from an environment's secrets."""
    from riso.secrets.envfile import check_name
    from riso.secrets.keys import find_key

    environment = _environment(env)
    check_name(name)
    vault = _vault(path)
    removed = vault.remove(environment, name, find_key())
    where = vault.relative(vault.path(environment))
    if removed:
        out.print(f"removed {name} from {where}")
    else:
        err.print(f"{name} is not set in {where}", markup=False, soft_wrap=True)
        raise typer.Exit(1)


@secrets_app.command("rekey")
def rekey(path: Where = _HERE) -> None:
    """Re-encrypt every environment's file to the public keys now in secrets/recipients.txt."""
    from riso.secrets.keys import find_key

    vault = _vault(path)
    done = vault.rekey(find_key())
    recipients = len(vault.recipients())
    if done:
        out.print(f"re-encrypted {', '.join(done)} to {recipients} recipient(s)")
    else:
        _say("no encrypted files yet")
