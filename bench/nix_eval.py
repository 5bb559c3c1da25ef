"""How long Nix takes to evaluate the api starter's service plan (target: under 1 s).

    RISO_NIXPKGS_LIB=$PWD/.nixpkgs-lib python bench/nix_eval.py [--runs 10] [--write]

Two measurements, each a fresh `nix eval` process (what a user pays per command):
  modules: `lib.evalModules` of riso's modules for the starter folder (`--impure --expr`);
  flake:   `nix eval <starter>#legacyPackages.<system>.riso.plan` through riso.lib.mkFlake,
           riso = this checkout, nixpkgs = the test stand-in carrying nixpkgs' lib
           (`--no-eval-cache`, so nothing is reused between runs).
The stand-in's packages are trivial derivations: importing the full nixpkgs package set,
which is not available here, is not part of these numbers. `--write` records the results
in bench/nix_eval.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.nix.conftest import FIXTURES, nix_env, write_stub_flake  # noqa: E402
from tests.nix.test_flake import render_blueprint_flake  # noqa: E402

RESULTS = REPO / "bench" / "nix_eval.md"
ALL_FEATURES = (
    '[project]\nname = "api"\nversion = "0.1.0"\n\n[tool.riso]\nfeatures = ["api", "cache", "database", "monitoring"]\n'
)


def starter(tmp: Path) -> tuple[Path, str]:
    """A copy of templates/api, or a stand-in with the same features when it is absent."""
    target = tmp / "api"
    source = REPO / "templates" / "api"
    if source.is_dir():
        shutil.copytree(source, target)
        return target, "templates/api"
    target.mkdir()
    (target / "pyproject.toml").write_text(ALL_FEATURES)
    flake = render_blueprint_flake("api")
    (target / "flake.nix").write_text(flake)
    return target, "a stand-in pyproject.toml with the api starter's four features"


def timed(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=nix_env(), check=True, capture_output=True, timeout=120)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--write", action="store_true", help="record the results in bench/nix_eval.md")
    args = parser.parse_args()
    lib = os.environ.get("RISO_NIXPKGS_LIB")
    if not lib:
        print("error: set RISO_NIXPKGS_LIB to a nixpkgs.lib checkout", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        project, origin = starter(tmp)
        stub = write_stub_flake(tmp / "stub", Path(lib).resolve())
        expr = f"""let lib = import {lib}/lib;
          pkgs = import {FIXTURES}/nixpkgs-stub/pkgs.nix {{ system = builtins.currentSystem; inherit lib; }};
          evalProject = import {REPO}/lib/evalProject.nix {{ inherit lib; }};
        in (evalProject {{ inherit pkgs; src = {project}; }}).config.riso.plan"""
        modules = ["nix", "eval", "--json", "--impure", "--expr", expr]
        system = subprocess.run(
            ["nix", "eval", "--impure", "--raw", "--expr", "builtins.currentSystem"],
            env=nix_env(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        flake = [
            "nix", "eval", "--json", "--no-eval-cache", "--no-write-lock-file",
            f"path:{project}#legacyPackages.{system}.riso.plan",
            "--override-input", "riso", str(REPO), "--override-input", "nixpkgs", f"path:{stub}",
        ]  # fmt: skip
        timed(flake, 1)  # first copy of the inputs into the store, not counted
        results = {"modules": timed(modules, args.runs), "flake": timed(flake, args.runs)}
    version = subprocess.run(["nix", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    lines = [
        f"- project: {origin}",
        f"- {version}; {platform.machine()}, {os.cpu_count()} cores; {args.runs} runs each",
        "",
        "| what | median s | min s | max s |",
        "| --- | --- | --- | --- |",
    ]
    for name, times in results.items():
        lines.append(f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} |")
    verdict = "under" if max(statistics.median(t) for t in results.values()) < 1.0 else "NOT under"
    lines += ["", f"Both medians are {verdict} the 1 s target."]
    print("\n".join(lines))
    if args.write:
        head = RESULTS.read_text().split("## Results")[0] if RESULTS.exists() else ""
        RESULTS.write_text(head + "## Results\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
