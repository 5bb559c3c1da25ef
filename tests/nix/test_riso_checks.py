"""riso's own flake checks, built here with the stand-in nixpkgs (needs RISO_NIXPKGS_LIB).

The stand-in's runCommand runs a check's script with the host's /bin/sh and coreutils, so
checks that need nothing else really run. plan-parity needs riso from nixpkgs; here its
cases file is built by Nix and its comparison script runs with this checkout's riso.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, input_overrides, nix_json, run_nix

pytestmark = pytest.mark.nix


def build(stub: Path, attr: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    args = [
        "build",
        "--no-link",
        "--json",
        f"{REPO}#{attr}",
        "--override-input",
        "nixpkgs",
        f"path:{stub}",
        *input_overrides(),
    ]
    return run_nix(*args, "--no-write-lock-file", check=check)


@pytest.mark.parametrize("name", ["module-tests", "docs"])
def test_check_builds(name: str, stub_nixpkgs_with_lib: Path, system: str) -> None:
    build(stub_nixpkgs_with_lib, f"checks.{system}.{name}")


def test_plan_parity_check_cases_pass_against_riso(stub_nixpkgs_with_lib: Path, system: str) -> None:
    attr = f"checks.{system}.plan-parity.cases"
    built = nix_json(
        "build",
        "--no-link",
        f"{REPO}#{attr}",
        "--override-input",
        "nixpkgs",
        f"path:{stub_nixpkgs_with_lib}",
        *input_overrides(),
    )
    cases = built[0]["outputs"]["out"]
    done = subprocess.run(
        [sys.executable, str(REPO / "checks" / "compare_plans.py"), cases],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok ") == 80  # one per valid combination


@pytest.mark.parametrize("attr", ["packages.{system}.riso", "devShells.{system}.default"])
def test_riso_package_and_dev_shell_evaluate(attr: str, stub_nixpkgs_with_lib: Path, system: str) -> None:
    ref = f"{REPO}#{attr.format(system=system)}.drvPath"
    done = run_nix(
        "eval", "--raw", ref, "--override-input", "nixpkgs", f"path:{stub_nixpkgs_with_lib}", *input_overrides()
    )
    assert done.stdout.startswith("/nix/store/") and done.stdout.endswith(".drv")
