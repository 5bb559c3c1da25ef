"""How long Nix takes to evaluate a project's plan and dev shell, and riso's combination checks.

    RISO_NIX_INPUTS=../shared/nix-inputs python bench/nix_eval.py [--runs 10] [--write]

Each measurement is a fresh `nix eval` process (what a user pays per command):
  modules:    `lib.evalModules` of riso's modules for the project folder (`--impure --expr`);
  flake:      `nix eval <project>#legacyPackages.<system>.riso.plan` through riso.lib.mkFlake,
              riso = this checkout, nixpkgs = the test stand-in carrying nixpkgs' lib
              (`--no-eval-cache`, so nothing is reused between runs);
  dev shell:  the dev shell's drvPath (uv2nix reads uv.lock, editable overlay);
  one combo / all combos: the drvPath of one combination check of riso's flake, and of all
              of them; their ratio shows that a check is evaluated only when asked for.
The project is tests/nix/fixtures/project with every feature.
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

from tests.nix.conftest import FIXTURES, input_overrides, nix_env, nix_inputs_dir, write_stub_flake  # noqa: E402
from tests.nix.test_flake import render_blueprint_flake  # noqa: E402

RESULTS = REPO / "bench" / "nix_eval.md"


def project_copy(tmp: Path) -> Path:
    target = tmp / "demo"
    shutil.copytree(FIXTURES / "project", target)
    (target / "flake.nix").write_text(render_blueprint_flake("demo"))
    return target


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
    inputs = nix_inputs_dir()
    if inputs is None:
        print("error: set RISO_NIX_INPUTS to the offline copies of the flake inputs", file=sys.stderr)
        return 2
    lib = os.environ.get("RISO_NIXPKGS_LIB") or str(inputs / "nixpkgs-lib")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        project, origin = project_copy(tmp), "tests/nix/fixtures/project (api, cache, database, monitoring)"
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
        over = ["--override-input", "riso", str(REPO), "--override-input", "nixpkgs", f"path:{stub}"]
        common = ["nix", "eval", "--json", "--no-eval-cache", "--no-write-lock-file"]
        flake = [*common, f"path:{project}#legacyPackages.{system}.riso.plan", *over, *input_overrides("riso/")]
        shell = [*common, f"path:{project}#devShells.{system}.default.drvPath", *over, *input_overrides("riso/")]
        riso_over = ["--override-input", "nixpkgs", f"path:{stub}", *input_overrides()]
        one = [*common, f'{REPO}#checks.{system}."combo-api+database".drvPath', *riso_over]
        every = [
            *common, f"{REPO}#checks.{system}", "--apply",
            "c: map (n: c.${n}.drvPath) (builtins.filter (n: builtins.substring 0 6 n == \"combo-\")"
            " (builtins.attrNames c))",
            *riso_over,
        ]  # fmt: skip
        for argv in (flake, one):
            timed(argv, 1)  # first copy of the inputs into the store, not counted
        results = {
            "modules": timed(modules, args.runs),
            "flake": timed(flake, args.runs),
            "dev shell": timed(shell, args.runs),
            "one combo": timed(one, args.runs),
            "all combos": timed(every, args.runs),
        }
    version = subprocess.run(["nix", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    lines = [
        f"- project: {origin}",
        f"- {version}; {platform.machine()}, {os.cpu_count()} cores; {args.runs} runs each;"
        f" load average {os.getloadavg()[0]:.1f} at the end",
        "",
        "| what | median s | min s | max s |",
        "| --- | --- | --- | --- |",
    ]
    for name, times in results.items():
        lines.append(f"| {name} | {statistics.median(times):.3f} | {min(times):.3f} | {max(times):.3f} |")
    plan_medians = [statistics.median(results[k]) for k in ("modules", "flake")]
    verdict = "under" if max(plan_medians) < 1.0 else "NOT under"
    one_s, all_s = statistics.median(results["one combo"]), statistics.median(results["all combos"])
    each = (all_s - one_s) / 15
    lines += [
        "",
        f"The plan medians are {verdict} the 1 s target. All 16 combination checks take {all_s / one_s:.2f}x",
        "the time of one (same run): the shared part (uv2nix reading the lock, riso's package) is paid",
        f"once, each further combination adds about {each:.3f} s.",
    ]
    print("\n".join(lines))
    if args.write:
        head = RESULTS.read_text().split("## Results")[0] if RESULTS.exists() else ""
        RESULTS.write_text(head + "## Results\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
