"""The stand-in nixpkgs rejects what nixos-25.11 would reject (so it cannot hide a wrong call)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import FIXTURES, nix_json, run_nix

pytestmark = pytest.mark.nix


def evaluate(lib: Path, body: str) -> tuple[int, str]:
    expr = f"""
let
  lib = import {lib}/lib;
  pkgs = import {FIXTURES}/nixpkgs-stub/pkgs.nix {{ system = "x86_64-linux"; inherit lib; }};
in builtins.deepSeq ({body}) true
"""
    done = run_nix("eval", "--impure", "--json", "--expr", expr, check=False)
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('(pkgs.makeSetupHook { name = "h"; deps = [ ]; } ./x).drvPath', "unexpected argument 'deps'"),
        ('(pkgs.writeShellApplication { name = "a"; text = ""; runtimeDeps = [ ]; }).drvPath', "runtimeDeps"),
        ('(pkgs.fetchurl { url = "https://x/y"; sha1 = "0"; }).drvPath', "sha1"),
        (
            '(pkgs.python3.pkgs.buildPythonPackage { pname = "a"; version = "1"; src = ./.; }).drvPath',
            "needs `pyproject = true`",
        ),
        (
            '(pkgs.python3.pkgs.buildPythonPackage { pname = "a"; version = "1"; pyproject = true; x = 1; }).drvPath',
            "has no argument 'x'",
        ),
        ("(pkgs.mkShell { env.X = [ 1 ]; }).drvPath", "env.X"),
        ('(pkgs.mkShell { X = "a"; env.X = "b"; }).drvPath', "also a top-level attribute"),
        ("pkgs.nixfmt-rfc-style.drvPath", "nixfmt-rfc-style"),
        ("pkgs.postgresql_13.drvPath", "postgresql_13"),
        ("pkgs.callPackage ({ lib, notInNixpkgs }: 1) { }", "notInNixpkgs"),
    ],
)
def test_stand_in_rejects(body: str, message: str, nixpkgs_lib: Path) -> None:
    code, stderr = evaluate(nixpkgs_lib, body)
    assert code != 0
    assert message in stderr


def test_stand_in_accepts_what_riso_and_pyproject_nix_call(nixpkgs_lib: Path) -> None:
    body = """[
      (pkgs.makeSetupHook { name = "h"; propagatedBuildInputs = [ ]; substitutions.a = "b"; } ./x).name
      (pkgs.stdenv.mkDerivation (final: { pname = "a"; version = "1"; passthru.v = final.version; })).v
      (pkgs.postgresql_16.withPackages (ps: [ ps.postgis ])).name
      (pkgs.lib.getBin pkgs.redis).name
      pkgs.python313.pythonVersion
    ]"""
    expr = f"""
let
  lib = import {nixpkgs_lib}/lib;
  pkgs = import {FIXTURES}/nixpkgs-stub/pkgs.nix {{ system = "x86_64-linux"; inherit lib; }};
in {body}
"""
    assert nix_json("eval", "--impure", "--expr", expr) == [
        "h",
        "1",
        "postgresql-and-plugins-16.11",
        "redis-8.2.2",
        "3.13",
    ]
