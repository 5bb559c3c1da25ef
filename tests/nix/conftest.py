"""Helpers for the Nix tests: running Debian's Nix offline, a nixpkgs stand-in, riso plans.

The tests carry their own Nix configuration (NIX_CONFIG, and NIX_CONF_DIR /
NIX_USER_CONF_FILES pointing at an empty folder), so the machine's /etc/nix/nix.conf is
never read. nixpkgs is replaced by a stand-in flake (tests/nix/fixtures/nixpkgs-stub)
carrying nixpkgs' lib; riso's other inputs (uv2nix, pyproject.nix, pyproject-build-systems,
flake-parts) are offline copies passed with --override-input. They are found in
RISO_NIX_INPUTS, else `<repo>/../shared/nix-inputs`; RISO_NIXPKGS_LIB overrides the lib.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
NIX_CONFIG = (
    "experimental-features = nix-command flakes\n"
    "substituters =\n"
    "build-users-group =\n"
    # the stand-in's builders run the host's /bin/sh and coreutils
    "sandbox = false\n"
    "warn-dirty = false\n"
    # Nix 2.8's evaluation cache hands back strings whose context names several derivations as
    # one malformed store path ("... is not in the Nix store"), and the tests evaluate the same
    # flakes many times: evaluate afresh every time.
    "eval-cache = false\n"
)
# Inputs of riso's flake besides nixpkgs -> folder of the offline copy.
INPUT_FOLDERS = {
    "uv2nix": "uv2nix",
    "pyproject-nix": "pyproject-nix",
    "pyproject-build-systems": "pyproject-build-systems",
    "flake-parts": "flake-parts",
}
_CONF_DIR = Path(tempfile.mkdtemp(prefix="riso-nix-conf-"))
SYSTEMS = ("x86_64-linux", "aarch64-linux", "aarch64-darwin", "x86_64-darwin")
FEATURES = ("api", "cache", "database", "monitoring", "tasks")

pytestmark = pytest.mark.nix

# the fixture project's own tests run inside its Nix check, not here
collect_ignore = ["fixtures"]


def nix_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RISO_PLAN"}
    env["NIX_CONFIG"] = NIX_CONFIG
    # an empty folder: neither /etc/nix/nix.conf nor ~/.config/nix/nix.conf is read
    env["NIX_CONF_DIR"] = str(_CONF_DIR)
    env["NIX_USER_CONF_FILES"] = str(_CONF_DIR / "nix.conf")
    return env


def nix_inputs_dir() -> Path | None:
    """The offline copies of riso's flake inputs (shared/nix-inputs beside the checkout)."""
    value = os.environ.get("RISO_NIX_INPUTS")
    folder = Path(value).resolve() if value else REPO.parent / "shared" / "nix-inputs"
    return folder if (folder / "nixpkgs-lib" / "lib" / "default.nix").is_file() else None


def input_overrides(prefix: str = "") -> list[str]:
    """--override-input for riso's inputs other than nixpkgs (`prefix` = "riso/" in a project)."""
    folder = nix_inputs_dir()
    if folder is None:
        return []
    args: list[str] = []
    for name, sub in INPUT_FOLDERS.items():
        args += ["--override-input", f"{prefix}{name}", f"path:{folder / sub}"]
    return args


def run_nix(
    *args: str, cwd: Path | None = None, timeout: int = 180, check: bool = True
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["nix", *args], cwd=cwd, env=nix_env(), capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"nix {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return done


def nix_json(*args: str, cwd: Path | None = None) -> Any:
    return json.loads(run_nix(*args, "--json", cwd=cwd).stdout)


def load_compare_plans() -> ModuleType:
    """checks/compare_plans.py: the parity rule, shared with the flake's plan-parity check."""
    spec = importlib.util.spec_from_file_location("compare_plans", REPO / "checks" / "compare_plans.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_stub_flake(folder: Path, lib_path: Path | None) -> Path:
    """A flake standing in for nixpkgs: the stub package set, and nixpkgs' lib when given."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "nixpkgs-stub" / "pkgs.nix", folder / "pkgs.nix")
    systems = " ".join(f'"{s}"' for s in SYSTEMS)
    if lib_path is None:
        inputs, lib_expr, args = "", "null", "_"
    else:
        inputs = f'inputs.nixpkgs-lib.url = "path:{lib_path}";\n  '
        lib_expr, args = "nixpkgs-lib.lib", "{ nixpkgs-lib, ... }"
    (folder / "flake.nix").write_text(
        f"""{{
  description = "stand-in for nixpkgs (tests only)";
  {inputs}outputs = {args}: let lib = {lib_expr}; in {{
    lib = if lib == null then throw "this nixpkgs stand-in has no lib" else lib;
    legacyPackages = builtins.listToAttrs (map (system: {{
      name = system;
      value = import ./pkgs.nix {{ inherit system lib; }};
    }}) [ {systems} ]);
  }};
}}
""",
        encoding="utf-8",
    )
    return folder


@pytest.fixture(scope="session")
def nix_available() -> None:
    if shutil.which("nix") is None:
        pytest.skip("nix is not installed (apt-get install nix-bin)")


@pytest.fixture(scope="session")
def system(nix_available: None) -> str:
    out = run_nix("eval", "--impure", "--raw", "--expr", "builtins.currentSystem").stdout.strip()
    return out


@pytest.fixture(scope="session")
def nixpkgs_lib(nix_available: None) -> Path:
    value = os.environ.get("RISO_NIXPKGS_LIB")
    inputs = nix_inputs_dir()
    if not value and inputs is None:
        pytest.skip(
            "no copy of nixpkgs' lib: set RISO_NIX_INPUTS (or RISO_NIXPKGS_LIB), or put "
            "shared/nix-inputs beside the checkout"
        )
    path = Path(value).resolve() if value else inputs / "nixpkgs-lib"  # type: ignore[operator]
    if not (path / "lib" / "default.nix").is_file():
        pytest.fail(f"RISO_NIXPKGS_LIB={value} has no lib/default.nix: point it at the nixpkgs.lib checkout root")
    return path


@pytest.fixture(scope="session")
def stub_nixpkgs(tmp_path_factory: pytest.TempPathFactory, nixpkgs_lib: Path) -> Path:
    return write_stub_flake(tmp_path_factory.mktemp("nixpkgs-stub"), nixpkgs_lib)


@pytest.fixture(scope="session")
def stub_nixpkgs_with_lib(tmp_path_factory: pytest.TempPathFactory, nixpkgs_lib: Path) -> Path:
    return write_stub_flake(tmp_path_factory.mktemp("nixpkgs-stub-lib"), nixpkgs_lib)


@pytest.fixture(scope="session")
def compare_plans() -> ModuleType:
    return load_compare_plans()


@pytest.fixture(scope="session")
def fake_bin(tmp_path_factory: pytest.TempPathFactory, compare_plans: ModuleType) -> Path:
    """Executables named like the servers, so `riso plan` finds every binary."""
    folder: Path = compare_plans.fake_binaries(tmp_path_factory.mktemp("fake-bin"))
    return folder


def eval_expr(lib_path: Path, body: str) -> str:
    """A `nix eval --impure --expr` text with `lib`, a stand-in `pkgs` and `evalProject` bound."""
    return f"""
let
  lib = import {lib_path}/lib;
  pkgs = import {FIXTURES}/nixpkgs-stub/pkgs.nix {{ system = builtins.currentSystem; inherit lib; }};
  evalProject = import {REPO}/lib/evalProject.nix {{ inherit lib; }};
in {body}
"""


def manifest(features: tuple[str, ...], extra: str = "") -> str:
    listed = ", ".join(f'"{f}"' for f in features)
    return f'[project]\nname = "demo"\n\n[tool.riso]\nfeatures = [{listed}]\n{extra}'


@pytest.fixture
def project_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "project"
    folder.mkdir()
    yield folder
