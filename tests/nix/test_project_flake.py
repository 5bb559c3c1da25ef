"""A project's flake (the blueprint's flake.nix) through riso.lib.mkFlake (needs RISO_NIXPKGS_LIB).

riso is the checkout, nixpkgs the stand-in flake carrying nixpkgs' lib; both are passed
with --override-input, as nothing can be downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conftest import FIXTURES, REPO, SYSTEMS, input_overrides, manifest, nix_json, run_nix
from .test_flake import render_blueprint_flake, starter_or_skip

pytestmark = pytest.mark.nix

EXTRA = '[tool.riso.services.postgres]\nversion = "16"\nsettings = { max_connections = 40 }\n'


def overrides(stub: Path) -> list[str]:
    return [
        "--override-input",
        "riso",
        str(REPO),
        "--override-input",
        "nixpkgs",
        f"path:{stub}",
        *input_overrides("riso/"),
        "--no-write-lock-file",
    ]


def make_project(folder: Path, pyproject: str) -> Path:
    """The fixture project (its uv.lock, src/, tests/) with `pyproject`'s [tool.riso] tables."""
    shutil.copytree(FIXTURES / "project", folder, dirs_exist_ok=True)
    fixture = (folder / "pyproject.toml").read_text()
    head = fixture[: fixture.index("[tool.riso]")]
    tool = pyproject[pyproject.index("[tool.riso]") :]
    (folder / "pyproject.toml").write_text(head + tool)
    (folder / "flake.nix").write_text(render_blueprint_flake("a demo service"))
    return folder


def assert_same_plan(compare_plans: ModuleType, python: dict[str, Any], nix: dict[str, Any]) -> None:
    diffs = compare_plans.differences(compare_plans.normalise(python), compare_plans.normalise(nix, python))
    assert not diffs, "\n".join(diffs)


def test_project_flake_plan_equals_riso_plan(
    project_dir: Path, stub_nixpkgs_with_lib: Path, system: str, fake_bin: Path, compare_plans: ModuleType
) -> None:
    make_project(project_dir, manifest(("api", "cache", "database", "monitoring"), EXTRA))
    nix = nix_json("eval", f"path:{project_dir}#legacyPackages.{system}.riso.plan", *overrides(stub_nixpkgs_with_lib))
    assert_same_plan(compare_plans, compare_plans.python_plan(project_dir, fake_bin), nix)


def test_plan_file_in_the_store_loads_as_riso_plan(project_dir: Path, stub_nixpkgs_with_lib: Path, system: str) -> None:
    """RISO_PLAN from the dev shell is read by the Python side's validating loader."""
    make_project(project_dir, manifest(("api", "database", "monitoring"), EXTRA))
    ref = f"path:{project_dir}#legacyPackages.{system}.riso"
    result = nix_json("build", "--no-link", f"{ref}.planFile", *overrides(stub_nixpkgs_with_lib))
    built = result[0]["outputs"]["out"]
    assert built.startswith("/nix/store/") and built.endswith("-demo-riso-plan.json")
    nix = nix_json("eval", f"{ref}.plan", *overrides(stub_nixpkgs_with_lib))
    assert json.loads(Path(built).read_text()) == nix
    env = {**os.environ, "RISO_PLAN": built}
    shown = subprocess.run(
        ["riso", "plan", "--json"], cwd=project_dir, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(shown.stdout) == json.loads(json.dumps(nix))


def test_project_flake_outputs_for_every_system(project_dir: Path, stub_nixpkgs_with_lib: Path) -> None:
    make_project(project_dir, manifest(("api", "cache")))
    shown = nix_json("flake", "show", f"path:{project_dir}", *overrides(stub_nixpkgs_with_lib))
    for system in SYSTEMS:
        assert shown["devShells"][system]["default"]["name"] == "demo-dev"
        assert set(shown["checks"][system]) == {"pytest", "ruff", "format"}
        assert shown["apps"][system]["up"]["type"] == "app"
        assert shown["packages"][system]["default"]["name"] == "demo-env"
        assert shown["formatter"][system]["type"] == "derivation"


def test_user_modules_passed_to_mkflake_win(project_dir: Path, stub_nixpkgs_with_lib: Path, system: str) -> None:
    make_project(project_dir, manifest(("database",), "[tool.riso.services.postgres]\nport = 5432\n"))
    flake = (project_dir / "flake.nix").read_text()
    call = "      src = ./.;\n    };"
    custom = "      src = ./.;\n      modules = [ { services.postgres.port = 6000; } ];\n    };"
    assert flake.count(call) == 1
    (project_dir / "flake.nix").write_text(flake.replace(call, custom))
    plan = nix_json("eval", f"path:{project_dir}#legacyPackages.{system}.riso.plan", *overrides(stub_nixpkgs_with_lib))
    assert plan["services"][0]["port"] == 6000


def test_project_without_uv_lock_is_named(project_dir: Path, stub_nixpkgs_with_lib: Path, system: str) -> None:
    make_project(project_dir, manifest(("api",)))
    (project_dir / "uv.lock").unlink()
    done = run_nix(
        "eval",
        f"path:{project_dir}#packages.{system}.default.drvPath",
        *overrides(stub_nixpkgs_with_lib),
        check=False,
    )
    assert done.returncode != 0
    assert "has no uv.lock: run `uv lock` there and commit it" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["api", "minimal"])
def test_starter_plan_equals_riso_plan(
    name: str,
    tmp_path: Path,
    stub_nixpkgs_with_lib: Path,
    system: str,
    fake_bin: Path,
    compare_plans: ModuleType,
) -> None:
    starter = starter_or_skip(name)
    copy = tmp_path / name
    shutil.copytree(starter, copy)
    nix = nix_json("eval", f"path:{copy}#legacyPackages.{system}.riso.plan", *overrides(stub_nixpkgs_with_lib))
    assert_same_plan(compare_plans, compare_plans.python_plan(copy, fake_bin), nix)
    expected = {"api": ["postgres", "redis", "prometheus", "grafana"], "minimal": []}[name]
    assert [s["name"] for s in nix["services"]] == expected
    # The starter's Python comes from its uv.lock; a starter without one (Poetry) fails
    # at evaluation with the one message that says so.
    for output in ("packages", "devShells"):
        drv = run_nix(
            "eval",
            "--raw",
            f"path:{copy}#{output}.{system}.default.drvPath",
            *overrides(stub_nixpkgs_with_lib),
            check=False,
        )
        if (copy / "uv.lock").is_file():
            assert drv.returncode == 0, drv.stderr[-2000:]
            assert drv.stdout.startswith("/nix/store/")
        else:
            assert drv.returncode != 0
            assert "riso: " in drv.stderr and ("uv.lock" in drv.stderr)
