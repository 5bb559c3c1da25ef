"""Benchmark of `riso check --matrix`: every feature combination, timed per step, written as markdown.

    python bench/matrix.py [--jobs 2] [--out bench/matrix.md]

Runs the same code as `riso check --matrix --jobs N` (riso.matrix.run over all 16 combinations) and
records, besides the table the command prints, each combination's time per step and the machine's
load, so a later run can be compared step by step. Caches (uv's wheel cache) are whatever the machine
has: run it twice and keep the second for "warm caches".
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from riso import matrix

STEPS = ("render", "venv", "install", "ruff check", "ruff format", "mypy", "pytest")


def tool_version(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None:
        return "absent"
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).strip().splitlines()[0]


def report(results: list[matrix.ComboResult], total: float, jobs: int, load: tuple[float, float]) -> str:
    lines = [
        "# `riso check --matrix` benchmark",
        "",
        f"Command: `riso check --matrix --jobs {jobs}` (here through `python bench/matrix.py --jobs {jobs}`).",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {tool_version(['uv', '--version'])};"
        f" load average {load[0]:.2f} before, {load[1]:.2f} after (other work shared the cores).",
        "Caches: uv's cache warm from an earlier run; mypy starts cold in every environment.",
        "",
        f"**{sum(r.ok for r in results)}/{len(results)} passed, total {total:.1f} s wall**"
        f" (sum of combination times {sum(r.seconds for r in results):.1f} s over {jobs} workers).",
        "",
        "| combination | result | seconds | " + " | ".join(STEPS) + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in STEPS) + " |",
    ]
    for label, verdict, seconds in matrix.table(results):
        result = next(r for r in results if r.label == label)
        by_step = {s.name: f"{s.seconds:.1f}" for s in result.steps}
        cells = " | ".join(by_step.get(step, "-") for step in STEPS)
        lines.append(f"| {label} | {verdict} | {seconds} | {cells} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("matrix.md"))
    args = parser.parse_args()
    before = os.getloadavg()[0]
    start = time.monotonic()
    results = matrix.run([matrix.combination(c) for c in matrix.select(None)], jobs=args.jobs)
    total = time.monotonic() - start
    text = report(results, total, args.jobs, (before, os.getloadavg()[0]))
    args.out.write_text(text)
    print(text)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
