"""Benchmark of `riso check --matrix`: time per tier and per combination, and a projection to more features.

    RISO_SCHEMAS=../shared/schemas python bench/matrix.py [--jobs 2] [--out bench/matrix.md]

Runs the same code as `riso check --matrix --jobs N` (riso.matrix.check over every valid combination:
all statically checked, the covering set fully tested) from a cold static cache, and records each
combination's time per step, the time per phase, and the machine's load. From those measured costs it
projects the default tier for 8, 12 and 20 features on this machine:

    wall(n) = static fixed + V(n) x static marginal / jobs + full fixed + C(n) x full per combination / jobs

with V(n) = 2**n valid combinations (no requires/conflicts: the worst case) and C(n) the covering-set
size that `riso.covering.covering_set` computes for n features. The static marginal is what one more
combination costs once the shared environment exists and mypy's cache is warm: its render, its mypy
run in the lane after the first, and its share of the batched ruff and import/schema runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from riso import blueprint_store, covering, features, interactions, matrix

STATIC_STEPS = ("render", "ruff check", "ruff format", "imports", "schemas", "mypy")
FULL_STEPS = ("venv", "install", "install riso", "pytest")
PREVIOUS = 110.3  # s: the previous design at load 0.7 (bench/matrix.md at 4c82144)


def fmt(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def costs(run: matrix.MatrixRun, jobs: int) -> dict[str, float]:
    """Per-combination costs measured in this run."""
    results = run.results
    n = len(results)
    step = {r.label: {s.name: s.seconds for s in r.steps} for r in results}
    mypy_times = [step[r.label]["mypy"] for r in results if "mypy" in step[r.label]]
    ordered = [
        matrix.label(c)
        for c in matrix.gray_order([tuple(r.label.split(",")) if r.label != "(none)" else () for r in results])
    ]
    lanes = [ordered[i * n // jobs : (i + 1) * n // jobs] for i in range(jobs)]
    cold = [step[lane[0]]["mypy"] for lane in lanes if lane]
    warm = [step[label]["mypy"] for lane in lanes for label in lane[1:]]
    renders = [step[r.label]["render"] for r in results]
    full = [sum(step[r.label].get(s, 0.0) for s in FULL_STEPS) for r in results if r.tier == "full"]
    phases = run.phases
    batched = (phases.get("ruff", 0.0) + phases.get("imports+schemas", 0.0)) / n
    marginal = statistics.mean(renders) + statistics.median(warm or mypy_times) + batched
    return {
        "combos": n,
        "full combos": len(full),
        "render mean": statistics.mean(renders),
        "mypy cold": statistics.mean(cold),
        "mypy warm median": statistics.median(warm or mypy_times),
        "batched per combo": batched,
        "static marginal": marginal,
        "static fixed": phases.get("shared env", 0.0)
        + max(sum(cold) / jobs - statistics.median(warm or mypy_times), 0),
        "full per combo": statistics.mean(full) if full else 0.0,
        "full fixed": phases.get("riso wheel", 0.0),
    }


def projection(
    c: dict[str, float], jobs: int, order: int
) -> list[tuple[int, int, int, int, float, float, float, float]]:
    """Per feature count: valid and covering sizes, the static tier as `riso check --matrix` runs it by
    default (every combination up to matrix.STATIC_EVERY_LIMIT, else the covering set of strength
    max(3, order + 1) and the full tier's), the full tier, the default total, and `--every`'s static tier."""
    rows = []
    for n in (4, 8, 12, 20):
        space = covering.Space.of([f"f{i:02d}" for i in range(n)])
        valid = 2**n
        full_set = set(covering.covering_set(space, 2))
        c3 = len(covering.covering_set(space, 3))
        if valid <= matrix.STATIC_EVERY_LIMIT:
            checked = valid
        else:
            checked = len(full_set | set(covering.covering_set(space, max(3, order + 1))))
        static = c["static fixed"] + checked * c["static marginal"] / jobs
        every = c["static fixed"] + valid * c["static marginal"] / jobs
        full = c["full fixed"] + len(full_set) * c["full per combo"] / jobs
        rows.append((n, valid, len(full_set), c3, static, full, static + full, every))
    return rows


def report(
    run: matrix.MatrixRun,
    total: float,
    jobs: int,
    load: tuple[float, float],
    command: str,
    baseline: tuple[float, int] | None,
) -> str:
    c = costs(run, jobs)
    order = interactions.scan(blueprint_store.installed_blueprint()).order
    if baseline is None:
        versus = (
            f"the previous design took {PREVIOUS} s in an earlier run at load 0.7 (not comparable at another load)."
        )
    else:
        versus = (
            f"the previous design (every combination rendered, installed, ruff, mypy and pytest in its own"
            f" environment: `riso.matrix.run`) in the same run: {baseline[0]:.1f} s, {baseline[1]}/{len(run.results)}"
            f" passed; new/previous = {total / baseline[0]:.2f}x (previous recorded result: {PREVIOUS} s at load 0.7)."
        )
    full = [r for r in run.results if r.tier == "full"]
    lines = [
        "# `riso check --matrix` benchmark",
        "",
        f"Command: `{command}` (the code of `riso check --matrix --jobs {jobs}`), static cache cold.",
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {tool('uv', '--version')};"
        f" load average {load[0]:.2f} before, {load[1]:.2f} after (other work shared the cores).",
        "",
        f"**{sum(r.ok for r in run.results)}/{len(run.results)} passed, total {total:.1f} s wall**"
        f" ({len(run.results)} statically checked, {len(full)} fully tested: the covering set);",
        versus,
        "",
        "## Time per phase (wall)",
        "",
        "| phase | seconds |",
        "| --- | ---: |",
        *(f"| {name} | {seconds:.1f} |" for name, seconds in run.phases.items()),
        "",
        "## Time per combination (seconds per step; batched steps show the combination's share)",
        "",
        "| combination | tier | result | total | " + " | ".join((*STATIC_STEPS, *FULL_STEPS)) + " |",
        "| --- | --- | --- | ---: | " + " | ".join("---:" for _ in (*STATIC_STEPS, *FULL_STEPS)) + " |",
    ]
    for result, (label, verdict, seconds) in zip(run.results, matrix.table(run.results), strict=True):
        by_step = {s.name: f"{s.seconds:.1f}" + ("c" if s.cached else "") for s in result.steps}
        cells = " | ".join(by_step.get(step, "-") for step in (*STATIC_STEPS, *FULL_STEPS))
        lines.append(f"| {label} | {result.tier} | {verdict} | {seconds} | {cells} |")
    lines += [
        "",
        "(`c`: the result came from the content-addressed cache.)",
        "",
        "## Measured per-combination costs",
        "",
        "| cost | seconds |",
        "| --- | ---: |",
        *(f"| {name} | {value:.2f} |" for name, value in c.items() if name not in ("combos", "full combos")),
        "",
        f"## Projection on this machine ({jobs} workers), default tier",
        "",
        "V(n) = 2^n valid combinations (no requires/conflicts, the worst case); C(n) = covering-set size from",
        "`riso.covering.covering_set` (strength 2 for the full tier). The default static tier checks every",
        f"combination up to {matrix.STATIC_EVERY_LIMIT}, beyond that a covering set of strength max(3, order + 1)",
        f"(the blueprint's measured interaction order is {order}: riso.interactions) plus the full tier's set;",
        "the last column is every combination statically checked (`--every`), on one machine.",
        "",
        "| features | valid combinations | covering set t=2 | t=3 | static tier | full tier (t=2) | default tier"
        " | `--every` static |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {n} | {v} | {c2} | {c3} | {fmt(s)} | {fmt(f)} | {fmt(t)} | {fmt(e)} |"
            for n, v, c2, c3, s, f, t, e in projection(c, jobs, order)
        ),
    ]
    return "\n".join(lines) + "\n"


def tool(*argv: str) -> str:
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    except OSError:
        return f"{argv[0]} absent"
    return (done.stdout or done.stderr).strip().splitlines()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("matrix.results.md"))
    parser.add_argument("--no-baseline", action="store_true", help="Skip the previous design's run.")
    args = parser.parse_args()
    assigned = matrix.tiers(features.valid_combinations())
    before = os.getloadavg()[0]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="riso-bench-matrix-") as cache:
        run = matrix.check(assigned, jobs=args.jobs, cache_dir=Path(cache), schemas=matrix.default_schemas())
    total = time.monotonic() - start
    baseline = None
    if not args.no_baseline:
        start = time.monotonic()
        previous = matrix.run([matrix.combination(c) for c in assigned], jobs=args.jobs)
        baseline = (time.monotonic() - start, sum(r.ok for r in previous))
    command = f"python bench/matrix.py --jobs {args.jobs}" + (" --no-baseline" if args.no_baseline else "")
    text = report(run, total, args.jobs, (before, os.getloadavg()[0]), command, baseline)
    args.out.write_text(text)
    print(text)
    return 0 if all(r.ok for r in run.results) else 1


if __name__ == "__main__":
    sys.exit(main())
