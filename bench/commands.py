"""Benchmark: the everyday commands, whole-process wall time, against bare interpreter start and raw servers.

    python bench/commands.py [--rounds 9] [--samples 3] [--out bench/commands.results.md]

One project (features database + cache, Postgres and Redis running) and, in every round, interleaved:
  `python -c pass`                the interpreter riso runs on, starting and doing nothing
  `python -c 'import riso.runner'` the part of every runner command that is the runner's imports
  riso env / status / plan --json the everyday commands, services up (`--samples` runs each per round)
  riso status (Typer app)         the same command through the Typer app, as every command ran before
  .envrc under direnv             `direnv exec <project> true` once `riso up` wrote .riso/env (no Python)
  riso up -d, all running         nothing to start
  riso up -d, warm / cold         after `riso down` (data kept) / in a fresh project (initdb, hooks)
  raw warm / raw cold             `pg_ctl start -w` + `redis-server` + PING (cold: initdb first), with the
                                  plan's own flags (bench/runner_startup.py's baseline)
The load average is recorded before every round. Writes a markdown report with medians, ratios and
the targets to --out.
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
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runner_startup import MANIFEST, RISO, raw_round, riso_round, run_riso, services_plan

from riso.runner import process

TYPER_APP = "import sys; sys.argv[0] = 'riso'; from riso.cli import _typer_app; raise SystemExit(_typer_app())"
DIRENV = shutil.which("direnv")
ENVRC = Path(__file__).resolve().parents[1] / "src" / "riso" / "blueprint" / "project" / ".envrc"
TARGETS = {"env": 0.08, "envrc": 0.02, "status": 0.15, "warm": 2.0, "cold": 1.3}


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    begun = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - begun
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {cwd}:\n{done.stdout.decode()}{done.stderr.decode()}")
    return elapsed


def direnv_env(home: Path) -> dict[str, str]:
    """direnv with its own data folders, on a PATH without Nix (the .envrc's non-Nix branch)."""
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for system in ("/usr/local/bin", "/usr/bin", "/bin"):
        if Path(system).is_dir():
            for entry in os.scandir(system):
                target = bin_dir / entry.name
                if not entry.name.startswith("nix") and entry.name != "riso" and not target.exists():
                    target.symlink_to(entry.path)
    (bin_dir / "riso").symlink_to(RISO)
    return {"PATH": str(bin_dir), "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def row(name: str, samples: list[float], base: float | None) -> str:
    ratio = f"{median(samples) / base:.2f}" if base else ""
    shown = " ".join(f"{s:.3f}" for s in samples)
    return f"| {name} | {median(samples):.3f} | {min(samples):.3f} | {max(samples):.3f} | {ratio} | {shown} |"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(results: dict[str, list[float]], loads: list[float], command: str, after: float) -> str:
    med = {k: median(v) for k, v in results.items() if v}
    bare = med["python -c pass"]
    who = "root (Postgres as the unprivileged service user)" if os.geteuid() == 0 else f"uid {os.geteuid()}"
    warm, cold = med["riso up -d, warm"] / med["raw warm"], med["riso up -d, cold"] / med["raw cold"]
    envrc = med.get(".envrc under direnv")
    lines = [
        "# Everyday commands: benchmark results",
        "",
        f"Produced by `{command}` on {time.strftime('%Y-%m-%d %H:%M:%S %Z')}.",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
        f"load average (1 min) before each round: {' '.join(f'{x:.2f}' for x in loads)}; {after:.2f} after",
        f"- Python {platform.python_version()} ({sys.executable}); running as {who}; direnv: {DIRENV or 'absent'}",
        f"- rounds: {len(loads)}, every scenario in every round; the ratio column is to `python -c pass`",
        "",
        "| scenario | median s | min s | max s | / bare | samples s |",
        "| --- | --- | --- | --- | --- | --- |",
        *(row(name, samples, bare) for name, samples in results.items() if samples),
        "",
        "Targets (medians of this run):",
        "",
        f"- `riso env` {med['riso env']:.3f} s (<= {TARGETS['env']} s: {verdict(med['riso env'] <= TARGETS['env'])})"
        + (
            f"; the .envrc under direnv {envrc:.3f} s, no Python (<= {TARGETS['envrc']} s: "
            f"{verdict(envrc <= TARGETS['envrc'])})"
            if envrc is not None
            else ""
        ),
        f"- `riso status` {med['riso status']:.3f} s (<= {TARGETS['status']} s: "
        f"{verdict(med['riso status'] <= TARGETS['status'])}); through the Typer app "
        f"{med['riso status (Typer app)']:.3f} s",
        f"- warm `riso up -d` / raw warm = {warm:.2f} (<= {TARGETS['warm']}: {verdict(warm <= TARGETS['warm'])})",
        f"- cold `riso up -d` / raw cold = {cold:.2f} (<= {TARGETS['cold']}: {verdict(cold <= TARGETS['cold'])})",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--samples", type=int, default=3, help="runs of each quick command per round")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("commands.results.md"))
    args = parser.parse_args()
    command = "python bench/commands.py " + " ".join(sys.argv[1:])
    services = services_plan()
    user = process.service_user() if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="riso-bench-"))
    base.chmod(0o755)
    project = base / "project"
    project.mkdir(mode=0o755)
    (project / "pyproject.toml").write_text(MANIFEST, encoding="utf-8")
    shutil.copy(ENVRC, project / ".envrc")
    names = [
        "python -c pass",
        "python -c 'import riso.runner'",
        "riso env",
        "riso status",
        "riso plan --json",
        "riso status (Typer app)",
        ".envrc under direnv",
        "riso up -d, all running",
        "riso up -d, warm",
        "raw warm",
        "riso up -d, cold",
        "raw cold",
    ]
    results: dict[str, list[float]] = {name: [] for name in names}
    loads: list[float] = []
    direnv = direnv_env(base / "home") if DIRENV else None
    quick: dict[str, Callable[[], float]] = {
        "python -c pass": lambda: timed([sys.executable, "-c", "pass"], project),
        "python -c 'import riso.runner'": lambda: timed([sys.executable, "-c", "import riso.runner"], project),
        "riso env": lambda: timed([RISO, "env"], project),
        "riso status": lambda: timed([RISO, "status"], project),
        "riso plan --json": lambda: timed([RISO, "plan", "--json"], project),
        "riso status (Typer app)": lambda: timed([sys.executable, "-c", TYPER_APP, "status"], project),
        "riso up -d, all running": lambda: timed([RISO, "up", "-d"], project),
    }
    if DIRENV and direnv:
        quick[".envrc under direnv"] = lambda: timed([DIRENV, "exec", str(project), "true"], project, direnv)
    try:
        run_riso(["up", "-d"], project)
        run_riso(["status"], project)  # writes the plan cache
        if DIRENV and direnv:
            subprocess.run([DIRENV, "allow", str(project)], env=direnv, check=True, capture_output=True)
        for number in range(args.rounds):
            loads.append(os.getloadavg()[0])
            for _ in range(args.samples):
                for name, measure in quick.items():
                    results[name].append(measure())
            run_riso(["down"], project)
            results["riso up -d, warm"].append(run_riso(["up", "-d"], project))
            steps = [lambda: riso_round(base), lambda: raw_round(base, services, user)]
            for step in steps if number % 2 == 0 else reversed(steps):
                outcome = step()
                if len(outcome) == 2:
                    results["riso up -d, cold"].append(outcome[0])
                else:
                    results["raw cold"].append(outcome[0])
                    results["raw warm"].append(outcome[2])
            print(
                f"round {number + 1} (load {loads[-1]:.2f}): "
                + ", ".join(f"{n} {s[-1]:.3f}" for n, s in results.items() if s),
                flush=True,
            )
    finally:
        subprocess.run([RISO, "down", "--volumes"], cwd=project, capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)
    text = report(results, loads, command, os.getloadavg()[0])
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
