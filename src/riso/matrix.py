"""The feature matrix: every combination rendered, installed in its own environment, linted and tested.

For each combination (`riso.features.all_combinations()`, the empty one included):

1. render the installed blueprint into `<work>/<slug>/` (riso_requirement = the riso checkout);
2. make a fresh virtual environment there and install the project (editable), its `dev` dependency
   group and riso itself, as a wheel built once per run from the checkout: riso is installed beside
   the project, never locked with it (docs/adr/0002). `uv` does this in seconds with its shared cache;
   without uv, `python -m venv` + pip (slower, same result);
3. run `ruff check`, `ruff format --check`, `mypy` (the project's strict config) and `pytest` with the
   environment's own tools.

Services are shared: one Postgres and one Redis for the whole run, started with the Runner in the
work folder and handed to every combination through `DATABASE_URL`/`REDIS_URL`. The pytest plugin gives
each test its own database cloned from a per-session template with a per-session name prefix; for Redis
it picks a database number per xdist worker, so each combination runs as its own worker
(`PYTEST_XDIST_WORKER=gw<index>`) and concurrent ones never empty each other's data.

The module never prints: `run` reports each finished combination through a callback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riso import blueprint_store, generate
from riso.errors import RisoError
from riso.features import all_combinations, implied_services, normalise, unknown_features

STEP_TIMEOUT = {"render": 300.0, "install": 900.0, "ruff check": 300.0, "ruff format": 300.0}
DEFAULT_TIMEOUT = 1200.0
TAIL_LINES = 40
MATRIX_SERVICES = ("postgres", "redis")


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    output: str = ""


@dataclass
class ComboResult:
    label: str
    ok: bool
    seconds: float
    steps: list[StepResult] = field(default_factory=list)

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if not s.ok), None)

    def tail(self, lines: int = TAIL_LINES) -> str:
        failed = self.failed_step
        return "\n".join(failed.output.splitlines()[-lines:]) if failed else ""


@dataclass(frozen=True)
class Target:
    """One project to check: `prepare(folder, riso_source)` writes it into an empty `folder`."""

    label: str
    folder: str
    prepare: Callable[[Path, Path], None]
    services: tuple[str, ...] = ()
    weight: int = 0  # expected cost; heavier targets start first so no worker idles at the end


@dataclass(frozen=True)
class Settings:
    riso_source: Path
    work: Path
    services_env: Mapping[str, str]
    wheel: Path
    use_uv: bool


# --- selection ----------------------------------------------------------------------------------


def select(only: Sequence[str] | None = None) -> list[tuple[str, ...]]:
    """Every combination, or those equal to one of `only`'s feature sets (`["api,database", "cache"]`)."""
    combos = all_combinations()
    if not only:
        return combos
    wanted: list[tuple[str, ...]] = []
    for spec in only:
        names = [p.strip() for p in spec.replace("+", ",").split(",") if p.strip() and p.strip() != "none"]
        unknown = unknown_features(names)
        if unknown:
            raise RisoError(f"unknown feature {unknown[0]!r} in --only", "known: " + ", ".join(sorted(combos[-1])))
        combo = tuple(normalise(names))
        if combo not in wanted:
            wanted.append(combo)
    return wanted


def slug(combo: tuple[str, ...]) -> str:
    return "-".join(combo) or "none"


def label(combo: tuple[str, ...]) -> str:
    return ",".join(combo) or "(none)"


def combination(combo: tuple[str, ...]) -> Target:
    """The blueprint rendered with `combo`, named `svc-<initials>` (`svc-acdm`: a name of ordinary length)."""

    def prepare(folder: Path, riso_source: Path) -> None:
        answers = {"project_name": f"svc-{''.join(f[0] for f in combo) or 'none'}", "features": list(combo)}
        generate.render(folder, {**answers, "riso_requirement": str(riso_source)})

    return Target(label(combo), slug(combo), prepare, tuple(implied_services(list(combo))), len(combo))


def copied(label_: str, source: Path, services: Sequence[str]) -> Target:
    """An existing project tree (a starter), copied as it is: its poetry.lock decides the versions."""

    def prepare(folder: Path, riso_source: Path) -> None:
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns(".venv", ".mypy_cache", ".ruff_cache"))

    return Target(label_, re.sub(r"[^A-Za-z0-9_.-]+", "-", label_), prepare, tuple(services), len(services) + 1)


# --- processes ----------------------------------------------------------------------------------


def _run(name: str, argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float) -> StepResult:
    start = time.monotonic()
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        ok, output = done.returncode == 0, done.stdout
        if not ok:
            output += f"\n[{name}: exit code {done.returncode}: {' '.join(argv)}]"
    except subprocess.TimeoutExpired as expired:
        raw = expired.stdout or b""
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        ok, output = False, f"{text}\n[{name}: timed out after {timeout:.0f}s]"
    except OSError as problem:
        ok, output = False, f"[{name}: cannot run {argv[0]}: {problem}]"
    return StepResult(name, ok, time.monotonic() - start, output)


def _base_env() -> dict[str, str]:
    """The caller's environment without anything that would point a project at another one."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "RISO_PLAN", "POETRY_ACTIVE", "CONDA_PREFIX"}
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("DATABASE_", "REDIS_"))}


# --- install ------------------------------------------------------------------------------------


def dev_requirements(pyproject: Path, group: str = "dev") -> list[str]:
    """The PEP 735 dependency group `group` (with `{include-group = ...}` resolved)."""
    groups: dict[str, list[Any]] = tomllib.loads(pyproject.read_text()).get("dependency-groups", {})

    def expand(name: str, seen: frozenset[str]) -> list[str]:
        out: list[str] = []
        for item in groups.get(name, []):
            if isinstance(item, dict) and "include-group" in item and item["include-group"] not in seen:
                out += expand(item["include-group"], seen | {item["include-group"]})
            elif isinstance(item, str):
                out.append(item)
        return out

    return expand(group, frozenset({group}))


def build_riso_wheel(source: Path, out_dir: Path) -> Path:
    """Build riso's wheel once per run: every environment installs the same immutable artefact."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if shutil.which("uv"):
        argv = ["uv", "build", "--wheel", "--quiet", "--out-dir", str(out_dir), str(source)]
    else:
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out_dir), str(source)]
    step = _run("build riso", argv, source, _base_env(), 600)
    wheels = sorted(out_dir.glob("riso-*.whl"))
    if not step.ok or not wheels:
        raise RisoError(f"building riso's wheel from {source} failed: {step.output.strip().splitlines()[-1:]}")
    return wheels[-1]


def locked_requirements(lock: Path, groups: Sequence[str] = ("main", "dev")) -> list[str]:
    """`name==version ; markers` for every package of `groups` in a Poetry 2 lock file."""
    packages: list[dict[str, Any]] = tomllib.loads(lock.read_text()).get("package", [])
    found: list[str] = []
    for package in packages:
        member = [g for g in package.get("groups", ["main"]) if g in groups]
        if not member:
            continue
        markers = package.get("markers")
        if isinstance(markers, dict):
            parts = [markers[g] for g in member if g in markers]
            markers = None if len(parts) < len(member) else " or ".join(f"({m})" for m in parts)
        found.append(f"{package['name']}=={package['version']}" + (f" ; {markers}" if markers else ""))
    return found


def install_steps(project: Path, settings: Settings) -> list[tuple[str, list[str]]]:
    """A fresh environment with the project (editable), its dev group and riso's wheel.

    A project with a poetry.lock (a starter) gets exactly the locked versions (`--no-deps`), and riso's
    wheel on top; otherwise the resolver picks the newest versions the project allows, like a fresh
    `poetry lock` of a new project would.
    """
    venv = project / ".venv"
    python = str(venv / "bin" / "python")
    if settings.use_uv:
        create = ["uv", "venv", "--quiet", "--python", sys.executable, str(venv)]
        pip = ["uv", "pip", "install", "--quiet", "--python", python]
    else:
        create = [sys.executable, "-m", "venv", str(venv)]
        pip = [python, "-m", "pip", "install", "--quiet"]
    lock = project / "poetry.lock"
    if lock.is_file():
        return [
            ("venv", create),
            ("install", [*pip, "--no-deps", "-e", str(project), *locked_requirements(lock)]),
            ("install riso", [*pip, str(settings.wheel)]),
        ]
    requirements = [*dev_requirements(project / "pyproject.toml"), str(settings.wheel)]
    return [("venv", create), ("install", [*pip, "-e", str(project), *requirements])]


def check_steps(project: Path) -> list[tuple[str, list[str]]]:
    bin_dir = project / ".venv" / "bin"
    return [
        ("ruff check", [str(bin_dir / "ruff"), "check", "."]),
        ("ruff format", [str(bin_dir / "ruff"), "format", "--check", "."]),
        ("mypy", [str(bin_dir / "mypy")]),
        ("pytest", [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"]),
    ]


# --- one combination ----------------------------------------------------------------------------


def combination_env(index: int, settings: Settings, project: Path) -> dict[str, str]:
    env = _base_env()
    venv = project / ".venv"
    env.update({"VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"})
    env.update(settings.services_env)
    # The plugin keeps xdist workers apart on a shared server (a Redis database number and a database
    # name prefix per worker); concurrent combinations are distinct workers in that sense.
    env["PYTEST_XDIST_WORKER"] = f"gw{index}"
    return env


def _prepare_step(target: Target, project: Path, settings: Settings) -> StepResult:
    start = time.monotonic()
    try:
        shutil.rmtree(project, ignore_errors=True)
        target.prepare(project, settings.riso_source)
        tomllib.loads((project / "pyproject.toml").read_text())
    except (RisoError, OSError, tomllib.TOMLDecodeError) as problem:
        return StepResult("render", False, time.monotonic() - start, str(problem))
    return StepResult("render", True, time.monotonic() - start)


def run_target(target: Target, index: int, settings: Settings) -> ComboResult:
    start = time.monotonic()
    project = settings.work / target.folder
    result = ComboResult(target.label, False, 0.0, [_prepare_step(target, project, settings)])
    env = combination_env(index, settings, project)
    if result.steps[-1].ok:
        for name, argv in install_steps(project, settings) + check_steps(project):
            result.steps.append(_run(name, argv, project, env, STEP_TIMEOUT.get(name, DEFAULT_TIMEOUT)))
            if not result.steps[-1].ok:
                break
    result.ok = all(s.ok for s in result.steps)
    result.seconds = time.monotonic() - start
    project.mkdir(parents=True, exist_ok=True)
    log = "".join(f"== {s.name} ({s.seconds:.1f}s)\n{s.output}\n" for s in result.steps)
    (project / "matrix.log").write_text(log)
    return result


# --- services -----------------------------------------------------------------------------------


@contextmanager
def shared_services(work: Path, targets: Sequence[Target]) -> Iterator[dict[str, str]]:
    """One Postgres and one Redis for the whole run (only those some target needs)."""
    needed = {s for t in targets for s in t.services} & set(MATRIX_SERVICES)
    if not needed:
        yield {}
        return
    from riso import config, plan
    from riso.runner import Runner

    features = [f for f, s in (("database", "postgres"), ("cache", "redis")) if s in needed]
    root = work / "services"
    root.mkdir(parents=True, exist_ok=True)
    the_plan = plan.build(config.parse({"project": {"name": "matrix"}, "tool": {"riso": {"features": features}}}))
    runner = Runner(the_plan, root)
    try:
        runner.up()
        env = runner.env()
        yield {k: v for k, v in env.items() if k in ("DATABASE_URL", "REDIS_URL")}
    finally:
        runner.down(volumes=True)


# --- the run ------------------------------------------------------------------------------------


def run(
    targets: Sequence[Target],
    *,
    jobs: int = 2,
    work: Path | None = None,
    keep: bool = False,
    on_result: Callable[[ComboResult], None] | None = None,
) -> list[ComboResult]:
    """Check every target (`combination(...)`, `copied(...)`); results in the order given."""
    if jobs < 1:
        raise RisoError(f"--jobs must be at least 1 (got {jobs})")
    source = generate.checkout_root()
    base = work or Path(tempfile.mkdtemp(prefix="riso-matrix-"))
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)  # Postgres runs as an unprivileged user when riso runs as root
    try:
        wheel = build_riso_wheel(source, base / "wheels")
        blueprint_store.record_installed()  # once, before the threads render from it
        with shared_services(base, targets) as services_env:
            settings = Settings(source, base, services_env, wheel, shutil.which("uv") is not None)
            results: dict[int, ComboResult] = {}
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                order = sorted(range(len(targets)), key=lambda i: -targets[i].weight)
                futures = {pool.submit(run_target, targets[i], i, settings): i for i in order}
                for future in as_completed(futures):
                    results[futures[future]] = future.result()
                    if on_result:
                        on_result(future.result())
            return [results[i] for i in range(len(targets))]
    finally:
        if not keep and work is None:
            shutil.rmtree(base, ignore_errors=True)


def table(results: Sequence[ComboResult]) -> list[tuple[str, str, str]]:
    """Rows (combination, result, seconds) for printing."""
    return [(r.label, _verdict(r), f"{r.seconds:.1f}") for r in results]


def _verdict(result: ComboResult) -> str:
    if result.ok:
        return "ok"
    failed = result.failed_step
    return f"FAIL ({failed.name})" if failed else "FAIL"
