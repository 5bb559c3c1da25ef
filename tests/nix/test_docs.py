"""docs/nix.md is generated from the modules (needs RISO_NIXPKGS_LIB for the options part)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .docgen import BEGIN, DOC, END, generated, splice

pytestmark = pytest.mark.nix


def test_docs_are_in_sync_with_the_modules(nixpkgs_lib: Path) -> None:
    current = DOC.read_text(encoding="utf-8")
    assert splice(current, generated(nixpkgs_lib)) == current, "run: python tests/nix/docgen.py"


def test_every_option_and_attribute_is_documented(nixpkgs_lib: Path) -> None:
    part = generated(nixpkgs_lib)
    for option in ("services.postgres.port", "services.grafana.datasources", "riso.features", "riso.python.package"):
        assert f"### `{option}`" in part
    for attribute in ("postgresql_16", "redis", "prometheus", "grafana", "python312", "nixfmt"):
        assert f"| `{attribute}` |" in part


def test_every_package_default_in_the_modules_is_in_the_attribute_table() -> None:
    """pkgs.NAME used in a module or lib file must appear in docs/nix.md's table (no lib needed)."""
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index(BEGIN) : text.index(END)]
    root = Path(__file__).resolve().parents[2]
    used: set[str] = set()
    for path in [*root.glob("modules/**/*.nix"), *root.glob("lib/*.nix")]:
        used |= set(re.findall(r"(?<![.\w])pkgs\.([A-Za-z][\w-]*)", path.read_text()))
    builders = {"lib", "mkShell", "runCommand", "writeText", "writeShellApplication", "system", "callPackage", "stdenv"}
    for name in sorted(used - builders):
        assert f"| `{name}` |" in table, f"pkgs.{name} is used but not listed in docs/nix.md"
