"""Compare the Nix plan with `riso plan --json` for the same manifests (the parity rule).

Used by `checks.<system>.plan-parity` (run as a script on a cases file) and by
tests/nix (imported). The rule, from docs/plan.md: plans are equal once every
`binaries` value is reduced to its basename. A binary the Python side did not find on
this machine is null there; such an entry is compared by key only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SERVER_BINARIES = ("postgres", "initdb", "pg_ctl", "psql", "redis-server", "prometheus", "grafana")


def normalise(plan: dict[str, Any], python_plan: dict[str, Any] | None = None) -> dict[str, Any]:
    """Binaries reduced to basenames; with `python_plan`, its nulls are copied over."""
    found: dict[tuple[str, str], Any] = {}
    if python_plan is not None:
        found = {(s["name"], k): v for s in python_plan["services"] for k, v in s["binaries"].items()}
    out: dict[str, Any] = json.loads(json.dumps(plan))
    for svc in out["services"]:
        svc["binaries"] = {
            k: None if found.get((svc["name"], k), "") is None or v is None else os.path.basename(v)
            for k, v in svc["binaries"].items()
        }
    return out


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Human-readable differences between two JSON values (numbers compare by value)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual or key not in expected:
                side = "nix" if key not in actual else "python"
                found.append(f"{path}/{key}: missing on the {side} side")
            else:
                found += differences(expected[key], actual[key], f"{path}/{key}")
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d for i, (e, a) in enumerate(zip(expected, actual, strict=True)) for d in differences(e, a, f"{path}[{i}]")
        ]
    return [] if expected == actual else [f"{path}: python {expected!r} != nix {actual!r}"]


def fake_binaries(folder: Path) -> Path:
    """Executables named like the servers, so the Python side finds every binary."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in SERVER_BINARIES:
        tool = folder / name
        tool.write_text("#!/bin/sh\nexit 0\n")
        tool.chmod(0o755)
    return folder


def python_plan(project: Path, binaries: Path, riso: str = "riso") -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "RISO_PLAN"}
    env["PATH"] = f"{binaries}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [riso, "plan", "--json"], cwd=project, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"riso plan --json failed in {project}: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(cases_file: str) -> int:
    """Each case: {"pyproject": "<toml text>", "plan": <nix plan>}; prints and counts mismatches."""
    cases = json.loads(Path(cases_file).read_text(encoding="utf-8"))
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        binaries = fake_binaries(Path(tmp) / "bin")
        for i, case in enumerate(cases):
            project = Path(tmp) / f"case{i}"
            project.mkdir()
            (project / "pyproject.toml").write_text(case["pyproject"], encoding="utf-8")
            py = python_plan(project, binaries)
            diffs = differences(normalise(py), normalise(case["plan"], py))
            print(f"{'ok  ' if not diffs else 'FAIL'} {case.get('label', i)}")
            for line in diffs:
                print(f"     {line}")
            failed += bool(diffs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
