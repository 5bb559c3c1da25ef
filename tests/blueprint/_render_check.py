"""Render blueprint combinations and run each project's own checks (a developer tool, not a test).

    python tests/blueprint/_render_check.py [--only api,database] [--keep DIR] [--no-pytest] [-k EXPR]

Renders with Copier's API into DIR/<combo>, then runs `ruff check`, `ruff format --check`, `mypy`
and `pytest` in it with the current interpreter (the project's src/ on PYTHONPATH, so nothing is
installed). Services come from DATABASE_URL / REDIS_URL when set, else from the riso pytest plugin.
Prints one line per combination and exits non-zero when any failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from itertools import combinations
from pathlib import Path

BLUEPRINT = Path(__file__).resolve().parents[2] / "src" / "riso" / "blueprint"
FEATURES = ("api", "cache", "database", "monitoring")
CHECKS = {
    "ruff": ["ruff", "check", "--no-cache", "."],
    "format": ["ruff", "format", "--no-cache", "--check", "."],
    "mypy": ["mypy", "--no-incremental"],
    "pytest": ["pytest", "-q", "-p", "no:cacheprovider"],
}


def all_combos() -> list[tuple[str, ...]]:
    return [c for k in range(len(FEATURES) + 1) for c in combinations(FEATURES, k)]


def render(features: tuple[str, ...], dest: Path, name: str = "demo-svc") -> None:
    from copier import run_copy

    if dest.exists():
        shutil.rmtree(dest)
    run_copy(
        str(BLUEPRINT),
        str(dest),
        data={"project_name": name, "features": list(features)},
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref=None,
    )


def run_checks(root: Path, checks: list[str], pytest_args: list[str]) -> dict[str, tuple[bool, str]]:
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    results = {}
    for name in checks:
        argv = CHECKS[name] + (pytest_args if name == "pytest" else [])
        proc = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, timeout=900)
        results[name] = (proc.returncode == 0, proc.stdout + proc.stderr)
    return results


def summary(name: str, ok: bool, output: str) -> str:
    if name == "pytest":
        found = re.findall(r"(\d+ (?:passed|failed|error|errors|skipped))", output)
        return f"pytest {'ok' if ok else 'FAIL'} ({', '.join(found)})"
    return f"{name} {'ok' if ok else 'FAIL'}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="one combination, comma-separated ('' = no features)")
    parser.add_argument("--keep", default="/tmp/riso-render", help="where renders go")
    parser.add_argument("--name", default="demo-svc", help="project name to render with")
    parser.add_argument("--no-pytest", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true", help="print failing output")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    combos = all_combos()
    if args.only is not None:
        combos = [tuple(sorted(f for f in args.only.split(",") if f))]
    checks = [c for c in CHECKS if not (args.no_pytest and c == "pytest")]
    failed = 0
    for combo in combos:
        label = "+".join(combo) or "(none)"
        dest = Path(args.keep) / (label.replace("+", "-") if combo else "none")
        start = time.monotonic()
        render(combo, dest, args.name)
        results = run_checks(dest, checks, args.pytest_args)
        ok = all(passed for passed, _ in results.values())
        failed += not ok
        line = ", ".join(summary(name, *result) for name, result in results.items())
        print(f"{label:32} {'PASS' if ok else 'FAIL'} {time.monotonic() - start:6.1f}s  {line}", flush=True)
        if args.verbose:
            for name, (passed, output) in results.items():
                if not passed:
                    print(f"--- {name} ---\n{output[-6000:]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
