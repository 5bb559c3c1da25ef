"""A project's flake built from its uv.lock: real uv2nix, pyproject.nix and flake-parts,
with the stand-in nixpkgs (tests/nix/fixtures/project is a small project with its lock)."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from .conftest import FIXTURES, nix_json, run_nix
from .test_flake import render_blueprint_flake
from .test_project_flake import overrides

pytestmark = pytest.mark.nix

# NIX_PYPROJECT_DEPS ("/nix/store/...-a-1.0:/nix/store/...-b-2.0") -> the store names
SPLIT_DEPS = (
    "d: map (p: builtins.unsafeDiscardStringContext (builtins.baseNameOf p))"
    ' (builtins.filter (p: builtins.isString p && p != "") (builtins.split ":" d))'
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(FIXTURES / "project", folder)
    (folder / "flake.nix").write_text(render_blueprint_flake("a demo"))
    return folder


def locked(folder: Path) -> dict[str, str]:
    lock = tomllib.loads((folder / "uv.lock").read_text())
    return {p["name"]: p["version"] for p in lock["package"]}


def test_python_set_has_exactly_the_locked_versions(project: Path, stub_nixpkgs: Path, system: str) -> None:
    versions = locked(project)
    names = sorted(versions)
    quoted = " ".join(f'"{n}"' for n in names)
    expr = (
        "s: builtins.listToAttrs (map (n: { name = n; value = s.${n}.version; })"
        " (builtins.filter (n: s ? ${n}) [ " + quoted + " ]))"
    )
    got = nix_json(
        "eval", f"path:{project}#legacyPackages.{system}.riso.pythonSet", "--apply", expr, *overrides(stub_nixpkgs)
    )
    # colorama is locked for Windows only (a marker): uv2nix leaves it out on this system
    assert got == {n: v for n, v in versions.items() if n != "colorama"}
    # the test environment resolves to every locked package, the app included
    env_deps = nix_json(
        "eval",
        f"path:{project}#legacyPackages.{system}.riso.testEnv.NIX_PYPROJECT_DEPS",
        "--apply",
        SPLIT_DEPS,
        *overrides(stub_nixpkgs),
    )
    for name, version in versions.items():
        found = [p for p in env_deps if p.split("-", 1)[1] == f"{name}-{version}"]
        assert len(found) == (0 if name == "colorama" else 1), (name, env_deps)


def test_dev_shell_python_has_the_app_editable(project: Path, stub_nixpkgs: Path, system: str) -> None:
    ref = f"path:{project}#legacyPackages.{system}.riso"
    probe = "d: { root = d.EDITABLE_ROOT or null; out = builtins.unsafeDiscardStringContext d.outPath; }"
    editable = nix_json("eval", f"{ref}.editableSet.demo", "--apply", probe, *overrides(stub_nixpkgs))
    normal = nix_json("eval", f"{ref}.pythonSet.demo", "--apply", probe, *overrides(stub_nixpkgs))
    # pyproject.nix's editable build points at the source tree the shell hook names
    assert editable["root"] == "$REPO_ROOT" and normal["root"] is None
    dev = nix_json("eval", f"{ref}.devEnv.NIX_PYPROJECT_DEPS", "--apply", SPLIT_DEPS, *overrides(stub_nixpkgs))
    test = nix_json("eval", f"{ref}.testEnv.NIX_PYPROJECT_DEPS", "--apply", SPLIT_DEPS, *overrides(stub_nixpkgs))
    assert Path(editable["out"]).name in dev and Path(editable["out"]).name not in test
    assert Path(normal["out"]).name not in dev
    # the shell has that environment and sets REPO_ROOT for it
    shell = nix_json(
        "eval",
        f"path:{project}#devShells.{system}.default",
        "--apply",
        "d: { inputs = map (p: builtins.unsafeDiscardStringContext (toString p)) d.nativeBuildInputs;"
        " hook = d.shellHook; }",
        *overrides(stub_nixpkgs),
    )
    assert any(p.endswith("-demo-dev-env") for p in shell["inputs"])
    assert 'export REPO_ROOT="$(git rev-parse --show-toplevel 2>/dev/null || pwd)"' in shell["hook"]


def test_pytest_check_depends_on_postgres_and_redis(project: Path, stub_nixpkgs: Path, system: str) -> None:
    inputs = nix_json(
        "eval",
        f"path:{project}#checks.{system}.pytest.nativeBuildInputs",
        "--apply",
        "map (p: builtins.unsafeDiscardStringContext (toString p))",
        *overrides(stub_nixpkgs),
    )
    names = " ".join(inputs)
    assert "-postgresql-17" in names and "-redis-" in names and "-prometheus-" in names
    assert "-demo-test-env" in names
    drv = nix_json(
        "eval",
        f"path:{project}#checks.{system}.pytest",
        "--apply",
        "d: d.__darwinAllowLocalNetworking",
        *overrides(stub_nixpkgs),
    )
    assert drv is True


def test_readme_edit_does_not_rebuild_the_app(project: Path, stub_nixpkgs: Path, system: str) -> None:
    ref = f"path:{project}#packages.{system}.default.drvPath"
    before = run_nix("eval", "--raw", ref, *overrides(stub_nixpkgs)).stdout
    (project / "README.md").write_text("# demo, edited\n")
    assert run_nix("eval", "--raw", ref, *overrides(stub_nixpkgs)).stdout == before
    (project / "src" / "demo" / "__init__.py").write_text('def hello() -> str:\n    return "hi"\n')
    assert run_nix("eval", "--raw", ref, *overrides(stub_nixpkgs)).stdout != before


def test_poetry_project_fails_with_one_message(project: Path, stub_nixpkgs: Path, system: str) -> None:
    text = (project / "pyproject.toml").read_text().replace('package_manager = "uv"', 'package_manager = "poetry"')
    (project / "pyproject.toml").write_text(text)
    done = run_nix("eval", f"path:{project}#packages.{system}.default.drvPath", *overrides(stub_nixpkgs), check=False)
    assert done.returncode != 0
    assert "the Nix build installs from uv.lock, and this project's package manager is poetry" in done.stderr


def test_flake_parts_module_in_a_small_flake(tmp_path: Path, stub_nixpkgs: Path, system: str) -> None:
    folder = tmp_path / "parts"
    shutil.copytree(FIXTURES / "project", folder)
    (folder / "flake.nix").write_text(
        """{
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";
  inputs.flake-parts.url = "github:hercules-ci/flake-parts";
  inputs.riso.url = "github:riso-dev/riso";
  inputs.riso.inputs.nixpkgs.follows = "nixpkgs";
  outputs = inputs@{ flake-parts, riso, ... }:
    flake-parts.lib.mkFlake { inherit inputs; } {
      imports = [ riso.flakeModules.default ];
      systems = [ "SYSTEM" ];
      riso.src = ./.;
      perSystem = { pkgs, ... }: { packages.hello = pkgs.writeText "hello" "hi"; };
    };
}
""".replace("SYSTEM", system)
    )
    from .conftest import nix_inputs_dir

    inputs = nix_inputs_dir()
    assert inputs is not None
    args = [
        *overrides(stub_nixpkgs),
        *("--override-input", "flake-parts", f"path:{inputs / 'flake-parts'}"),
        *("--override-input", "flake-parts/nixpkgs-lib", f"path:{inputs / 'nixpkgs-lib'}"),
    ]
    shown = nix_json("flake", "show", f"path:{folder}", *args)
    assert set(shown["packages"][system]) == {"default", "hello"}
    assert set(shown["checks"][system]) == {"pytest", "ruff", "format"}
    assert shown["devShells"][system]["default"]["name"] == "demo-dev"
