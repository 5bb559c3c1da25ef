"""The Nix module tree picks up a new feature from the table written from features.py.

A throwaway feature `greeting` bringing Redis is added to features.py (in-process); the table
`riso templates sync` writes (modules/features.json) is written into a copy of riso's `lib/` and
`modules/`, and the modules then accept `features = ["greeting"]` and plan Redis for it, as the
Python side does. No Nix file was edited.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from riso import config, feature_table, features, plan
from riso.features import Feature

from .conftest import FIXTURES, REPO, manifest, nix_json

pytestmark = pytest.mark.nix


def test_a_new_feature_reaches_the_nix_modules(
    tmp_path: Path, nixpkgs_lib: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(features.FEATURES, "greeting", Feature("greeting", "says hello", ("redis",)))
    copy = tmp_path / "riso"
    for folder in ("lib", "modules"):
        shutil.copytree(REPO / folder, copy / folder)
    (copy / "modules" / "features.json").write_text(feature_table.nix_json(), encoding="utf-8")
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(manifest(("greeting",)), encoding="utf-8")

    expr = f"""
let
  lib = import {nixpkgs_lib}/lib;
  pkgs = import {FIXTURES}/nixpkgs-stub/pkgs.nix {{ system = builtins.currentSystem; inherit lib; }};
  evalProject = import {copy}/lib/evalProject.nix {{ inherit lib; }};
in (evalProject {{ inherit pkgs; src = {project}; modules = [ ]; }}).config.riso.plan
"""
    nix = nix_json("eval", "--impure", "--expr", expr)
    python = plan.build(config.parse({"project": {"name": "demo"}, "tool": {"riso": {"features": ["greeting"]}}}))
    assert nix["project"]["features"] == python.project.features == ["greeting"]
    assert [s["name"] for s in nix["services"]] == [s.name for s in python.services] == ["redis"]
    combos = json.loads(feature_table.nix_json())["combinations"]
    assert ["greeting"] in combos and len(combos) == len(features.valid_combinations())
