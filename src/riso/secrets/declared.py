"""The secrets a project declares (`secrets/secrets.toml`, shaped like devenv's SecretSpec): each
name with a description and the environments that must have it, so `riso secrets list` can say
which are missing where."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from riso.errors import RisoError
from riso.secrets import envfile
from riso.secrets.vault import ENVIRONMENTS, FOLDER

DECLARED = "secrets.toml"


@dataclass(frozen=True)
class Declared:
    name: str
    description: str
    required: tuple[str, ...]  # environments whose encrypted file must set it


def declared(root: Path) -> dict[str, Declared]:
    """The declared secrets by name ({} when the project declares none)."""
    path = root / FOLDER / DECLARED
    where = f"{FOLDER}/{DECLARED}"
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as error:
        raise RisoError(f"{where} is not valid TOML: {error}") from None
    entries = table.get("secrets", {})
    if not isinstance(entries, dict):
        raise RisoError(f"{where}: [secrets] must be a table of NAME = {{ description, required }}")
    found = {}
    for name, entry in entries.items():
        envfile.check_name(name)
        if not isinstance(entry, dict):
            raise RisoError(f"{where}: secrets.{name} must be a table (description, required)")
        required = entry.get("required", [])
        if not isinstance(required, list) or any(env not in ENVIRONMENTS for env in required):
            raise RisoError(
                f"{where}: secrets.{name}.required must list environments", "among: " + ", ".join(ENVIRONMENTS)
            )
        found[name] = Declared(name, str(entry.get("description", "")), tuple(required))
    return found


@dataclass(frozen=True)
class Row:
    """One secret of one environment as `riso secrets list` shows it."""

    environment: str
    name: str
    present: bool
    required: bool
    declared: bool
    value: str | None  # only when asked for


def rows(known: dict[str, Declared], environment: str, values: dict[str, str] | None, show: bool) -> list[Row]:
    """Every declared secret (`known`, from `declared`) and every secret set in `environment`
    (values only when `show`); `values` None means the environment has no file."""
    present = values or {}
    names = sorted(set(known) | set(present))
    return [
        Row(
            environment,
            name,
            name in present,
            name in known and environment in known[name].required,
            name in known,
            present.get(name) if show else None,
        )
        for name in names
    ]
