"""The feature matrix: every valid combination statically checked, a covering set tested for real.

Tiers (`tiers`): every valid combination (`riso.features.valid_combinations()`, requires and conflicts
respected, the empty one included) gets the **static** tier while there are at most STATIC_EVERY_LIMIT
of them (else a covering set bounded by the blueprint's interaction order gets it, `riso.interactions`,
and the rest are **bounded**: listed, not rendered; `every=True` checks them all): rendered, then ruff,
ruff format, mypy, an import of every module and the compose/devcontainer JSON schemas, in one shared
environment with content-addressed reuse of results (`riso.static_checks`). The combinations of the covering set
(`riso.features.covering_combinations()`: none, each alone, all together, a pairwise covering array)
also get the **full** tier: installed from their own pyproject.toml in their own environment and
tested with pytest against real services. `exhaustive=True` gives every combination the full tier.
`shard(k, n)` splits the combinations deterministically, tier by tier, so CI runners share the work.

Full tier, per combination:

1. the static tier's render is copied to `<work>/full/<slug>/`;
2. a fresh virtual environment gets the project from its own lock (`uv sync --frozen` when it has a
   uv.lock; else `uv pip install` of the project (editable) and its `dev` group, or the locked versions
   of a poetry.lock); riso's wheel (built once per run) is installed beside it as a separate step
   (`install riso`, see `RISO_BESIDE_PROJECT`): riso is never locked with the project (docs/adr/0002);
3. pytest with the environment's own tools.

Services are shared: one Postgres and one Redis for the whole run, started with the Runner in the
work folder and handed to every combination through `DATABASE_URL`/`REDIS_URL`; each combination runs
as its own xdist worker name (`PYTEST_XDIST_WORKER=gw<index>`) so concurrent ones keep their test
databases and Redis database numbers apart.

`run(targets)` runs the full tier with ruff and mypy for arbitrary targets (starters, projects made
by `riso new` + `riso add`). The module never prints: results go to a callback.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from riso import blueprint_store, features, generate, interactions
from riso import static_checks as static
from riso.errors import RisoError
from riso.static_checks import dev_requirements

__all__ = ["dev_requirements"]  # kept importable from here

STEP_TIMEOUT = {"render": 300.0, "install": 900.0, "ruff check": 300.0, "ruff format": 300.0}
DEFAULT_TIMEOUT = 1200.0
TAIL_LINES = 40
MATRIX_SERVICES = ("postgres", "redis")
PROJECT_NAME = "svc-matrix"  # one name for every combination, so identical files hash identically
RISO_BESIDE_PROJECT = False  # generated tests need nothing of riso (docs/adr/0004); True installs it beside each

Tier = Literal["static", "full", "bounded"]
# Every valid combination gets the static tier while there are at most this many (8 features: 256,
# measured at 6.4 min on 2 cores in bench/matrix.md, run 4). Beyond, the static tier runs on a covering
# set of strength `blueprint interaction order + 1` (riso.interactions) and the rest are "bounded":
# listed, not rendered, their files' variants all checked in the covering set's combinations.
STATIC_EVERY_LIMIT = 256


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    output: str = ""
    cached: bool = False


@dataclass
class ComboResult:
    label: str
    ok: bool
    seconds: float
    steps: list[StepResult] = field(default_factory=list)
    tier: Tier = "full"

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
    wheel: Path | None
    use_uv: bool


# --- selection, tiers and shards ------------------------------------------------------------------


def select(only: Sequence[str] | None = None) -> list[tuple[str, ...]]:
    """Every valid combination, or those equal to one of `only`'s feature sets (`["api,database", "cache"]`)."""
    combos = features.valid_combinations()
    if not only:
        return combos
    wanted: list[tuple[str, ...]] = []
    for spec in only:
        names = [p.strip() for p in spec.replace("+", ",").split(",") if p.strip() and p.strip() != "none"]
        unknown = features.unknown_features(names)
        if unknown:
            raise RisoError(
                f"unknown feature {unknown[0]!r} in --only", "known: " + ", ".join(sorted(features.FEATURES))
            )
        error = features.problem(names)
        if error is not None:
            raise RisoError(f"--only {spec}: {error.message}", error.hint)
        combo = tuple(features.normalise(names))
        if combo not in wanted:
            wanted.append(combo)
    return wanted


def tiers(
    combos: Sequence[tuple[str, ...]],
    *,
    exhaustive: bool = False,
    strength: int = 2,
    every: bool = False,
    order: int | None = None,
) -> dict[tuple[str, ...], Tier]:
    """Each combination's tier: full for the covering set of `strength` (or all, `exhaustive`);
    static for the rest while they are at most STATIC_EVERY_LIMIT (or `every`); beyond that static
    only for a covering set of strength `order + 1` (at least 3; `order` defaults to the installed
    blueprint's measured interaction order) and "bounded" for the others."""
    covering = set(features.covering_combinations(strength))
    if exhaustive or every or len(combos) <= STATIC_EVERY_LIMIT:
        static = set(combos)
    else:
        if order is None:
            order = interactions.scan(blueprint_store.installed_blueprint()).order
        static = covering | set(features.covering_combinations(max(3, order + 1)))
    return {c: "full" if exhaustive or c in covering else "static" if c in static else "bounded" for c in combos}


def parse_shard(spec: str) -> tuple[int, int]:
    """`"2/4"` -> (2, 4): shard K of N, counted from 1."""
    try:
        k, n = (int(part) for part in spec.split("/"))
    except ValueError:
        raise RisoError(f"--shard {spec!r} is not K/N", "e.g. --shard 1/4 (shards counted from 1)") from None
    if not 1 <= k <= n:
        raise RisoError(f"--shard {spec!r}: K must be between 1 and N", "e.g. --shard 1/4")
    return k, n


def shard(assigned: Mapping[tuple[str, ...], Tier], k: int, n: int) -> dict[tuple[str, ...], Tier]:
    """Shard `k` of `n`: round-robin over the combinations sorted by label, tier by tier (even full-test load)."""
    chosen: dict[tuple[str, ...], Tier] = {}
    for tier in ("full", "static", "bounded"):
        ordered = sorted((c for c, t in assigned.items() if t == tier), key=label)
        chosen.update({c: tier for i, c in enumerate(ordered) if i % n == k - 1})
    return {c: chosen[c] for c in assigned if c in chosen}


def gray_order(combos: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Combinations ordered so neighbours differ in few features (reflected Gray code of their bit masks)."""
    names = sorted(features.FEATURES)

    def rank(combo: tuple[str, ...]) -> int:
        mask = sum(1 << names.index(f) for f in combo)
        rank_, shift = mask, mask >> 1
        while shift:  # inverse Gray code: the position of `mask` in the Gray sequence
            rank_ ^= shift
            shift >>= 1
        return rank_

    return sorted(combos, key=rank)


def slug(combo: tuple[str, ...]) -> str:
    return "-".join(combo) or "none"


def label(combo: tuple[str, ...]) -> str:
    return ",".join(combo) or "(none)"


def answers(combo: tuple[str, ...], name: str | None = None) -> dict[str, Any]:
    project = name or f"svc-{''.join(f[0] for f in combo) or 'none'}"
    return {"project_name": project, "features": list(combo)}


def combination(combo: tuple[str, ...], name: str | None = None) -> Target:
    """The blueprint rendered with `combo`, named `name` or `svc-<initials>` (`svc-acdm`)."""

    def prepare(folder: Path, riso_source: Path) -> None:
        generate.render(folder, {**answers(combo, name), "riso_requirement": str(riso_source)})

    return Target(label(combo), slug(combo), prepare, tuple(features.implied_services(combo)), len(combo))


def copied(label_: str, source: Path, services: Sequence[str]) -> Target:
    """An existing project tree (a starter), copied as it is: its lock file decides the versions."""

    def prepare(folder: Path, riso_source: Path) -> None:
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns(".venv", ".mypy_cache", ".ruff_cache"))

    return Target(label_, re.sub(r"[^A-Za-z0-9_.-]+", "-", label_), prepare, tuple(services), len(services) + 1)


# --- processes ------------------------------------------------------------------------------------


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


# --- install --------------------------------------------------------------------------------------


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
    """A fresh environment with the project from its own pyproject.toml/lock, then riso's wheel beside it.

    A uv.lock is installed as locked (`uv sync --frozen`, project and dev group); a poetry.lock (a
    starter) gives exactly its locked versions (`--no-deps`); otherwise the resolver picks the newest
    versions the project allows, like a fresh lock of a new project would.
    """
    venv = project / ".venv"
    python = str(venv / "bin" / "python")
    if settings.use_uv and (project / "uv.lock").is_file():
        steps = [("install", ["uv", "sync", "--frozen", "--quiet", "--python", sys.executable])]
    else:
        if settings.use_uv:
            create = ["uv", "venv", "--quiet", "--python", sys.executable, str(venv)]
            pip = ["uv", "pip", "install", "--quiet", "--python", python]
        else:
            create = [sys.executable, "-m", "venv", str(venv)]
            pip = [python, "-m", "pip", "install", "--quiet"]
        lock = project / "poetry.lock"
        if lock.is_file():
            deps = ["--no-deps", "-e", str(project), *locked_requirements(lock)]
        else:
            deps = ["-e", str(project), *dev_requirements(project / "pyproject.toml")]
        steps = [("venv", create), ("install", [*pip, *deps])]
    return steps + riso_install_steps(project, settings)


def riso_install_steps(project: Path, settings: Settings) -> list[tuple[str, list[str]]]:
    """riso's wheel beside the project (its pytest plugin): one separate step, easy to drop."""
    if not RISO_BESIDE_PROJECT or settings.wheel is None:
        return []
    python = str(project / ".venv" / "bin" / "python")
    if settings.use_uv:
        return [("install riso", ["uv", "pip", "install", "--quiet", "--python", python, str(settings.wheel)])]
    return [("install riso", [python, "-m", "pip", "install", "--quiet", str(settings.wheel)])]


def check_steps(project: Path, *, static: bool = True) -> list[tuple[str, list[str]]]:
    bin_dir = project / ".venv" / "bin"
    lint = [
        ("ruff check", [str(bin_dir / "ruff"), "check", "."]),
        ("ruff format", [str(bin_dir / "ruff"), "format", "--check", "."]),
        ("mypy", [str(bin_dir / "mypy")]),
    ]
    tests = [("pytest", [str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"])]
    return (lint if static else []) + tests


# --- one combination, full tier -------------------------------------------------------------------


def combination_env(index: int, settings: Settings, project: Path) -> dict[str, str]:
    env = _base_env()
    venv = project / ".venv"
    env.update({"VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"})
    env.update(settings.services_env)
    # Concurrent combinations share the servers: each is its own worker name, like xdist workers.
    env["PYTEST_XDIST_WORKER"] = f"gw{index}"
    return env


def _prepare_step(target: Target, project: Path, riso_source: Path) -> StepResult:
    start = time.monotonic()
    try:
        shutil.rmtree(project, ignore_errors=True)
        target.prepare(project, riso_source)
        tomllib.loads((project / "pyproject.toml").read_text())
    except (RisoError, OSError, tomllib.TOMLDecodeError) as problem:
        return StepResult("render", False, time.monotonic() - start, str(problem))
    return StepResult("render", True, time.monotonic() - start)


def run_target(target: Target, index: int, settings: Settings, *, static: bool = True) -> ComboResult:
    """Prepare, install, then (with `static`) ruff and mypy in the project's environment, then pytest."""
    start = time.monotonic()
    project = settings.work / target.folder
    result = ComboResult(target.label, False, 0.0, [_prepare_step(target, project, settings.riso_source)])
    env = combination_env(index, settings, project)
    if result.steps[-1].ok:
        for name, argv in install_steps(project, settings) + check_steps(project, static=static):
            result.steps.append(_run(name, argv, project, env, STEP_TIMEOUT.get(name, DEFAULT_TIMEOUT)))
            if not result.steps[-1].ok:
                break
    result.ok = all(s.ok for s in result.steps)
    result.seconds = time.monotonic() - start
    project.mkdir(parents=True, exist_ok=True)
    log = "".join(f"== {s.name} ({s.seconds:.1f}s)\n{s.output}\n" for s in result.steps)
    (project / "matrix.log").write_text(log)
    return result


# --- services -------------------------------------------------------------------------------------


@contextmanager
def shared_services(work: Path, needed_by: Sequence[Sequence[str]]) -> Iterator[dict[str, str]]:
    """One Postgres and one Redis for the whole run (only those some target needs), as DATABASE_URL/REDIS_URL."""
    needed = {s for services in needed_by for s in services} & set(MATRIX_SERVICES)
    if not needed:
        yield {}
        return
    from riso import config, plan
    from riso.runner import Runner

    wanted = [f for f, s in (("database", "postgres"), ("cache", "redis")) if s in needed]
    root = work / "services"
    root.mkdir(parents=True, exist_ok=True)
    the_plan = plan.build(config.parse({"project": {"name": "matrix"}, "tool": {"riso": {"features": wanted}}}))
    runner = Runner(the_plan, root)
    try:
        runner.up()
        env = runner.env()
        yield {k: v for k, v in env.items() if k in ("DATABASE_URL", "REDIS_URL")}
    finally:
        runner.down(volumes=True)


def _work_folder(work: Path | None) -> Path:
    base = work or Path(tempfile.mkdtemp(prefix="riso-matrix-"))
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)  # Postgres runs as an unprivileged user when riso runs as root
    return base


# --- arbitrary targets: full checks each ----------------------------------------------------------


def run(
    targets: Sequence[Target],
    *,
    jobs: int = 2,
    work: Path | None = None,
    keep: bool = False,
    on_result: Callable[[ComboResult], None] | None = None,
) -> list[ComboResult]:
    """Check every target (`combination(...)`, `copied(...)`) fully, ruff and mypy included; in the order given."""
    if jobs < 1:
        raise RisoError(f"--jobs must be at least 1 (got {jobs})")
    source = generate.checkout_root()
    base = _work_folder(work)
    try:
        wheel = build_riso_wheel(source, base / "wheels") if RISO_BESIDE_PROJECT else None
        blueprint_store.record_installed()  # once, before the threads render from it
        with shared_services(base, [t.services for t in targets]) as services_env:
            settings = Settings(source, base, services_env, wheel, shutil.which("uv") is not None)
            return _pool(targets, settings, jobs, on_result, static=True)
    finally:
        if not keep and work is None:
            shutil.rmtree(base, ignore_errors=True)


def _pool(
    targets: Sequence[Target],
    settings: Settings,
    jobs: int,
    on_result: Callable[[ComboResult], None] | None,
    *,
    static: bool,
    first_index: int = 0,
) -> list[ComboResult]:
    results: dict[int, ComboResult] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        order = sorted(range(len(targets)), key=lambda i: -targets[i].weight)
        futures = {pool.submit(run_target, targets[i], first_index + i, settings, static=static): i for i in order}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if on_result:
                on_result(future.result())
    return [results[i] for i in range(len(targets))]


# --- the tiered matrix ----------------------------------------------------------------------------


@dataclass
class MatrixRun:
    """What `check` did: results per combination and where the time went (seconds per phase)."""

    results: list[ComboResult]
    phases: dict[str, float] = field(default_factory=dict)


def default_schemas() -> Path | None:
    """`RISO_SCHEMAS`, else `<riso checkout>/../shared/schemas` when it exists."""
    given = os.environ.get("RISO_SCHEMAS")
    found = Path(given) if given else generate.checkout_root().parent / "shared" / "schemas"
    return found.resolve() if found.is_dir() else None  # the probe runs in another folder


def check(
    assigned: Mapping[tuple[str, ...], Tier],
    *,
    jobs: int = 2,
    work: Path | None = None,
    keep: bool = False,
    cache_dir: Path | None = None,
    schemas: Path | None = None,
    on_result: Callable[[ComboResult], None] | None = None,
) -> MatrixRun:
    """Static tier for every combination of `assigned`, then the full tier for those assigned "full"."""
    if jobs < 1:
        raise RisoError(f"--jobs must be at least 1 (got {jobs})")
    source = generate.checkout_root()
    base = _work_folder(work)
    phases: dict[str, float] = {}
    try:
        combos = gray_order([c for c, tier in assigned.items() if tier != "bounded"])
        renders, rendered = _render_all(combos, base / "render", source, jobs, phases)
        statics = _static_tier(renders, rendered, base, cache_dir or base / "cache", schemas, jobs, phases)
        results = {c: statics[c] for c in combos}
        for combo in (c for c, tier in assigned.items() if tier == "bounded"):
            results[combo] = ComboResult(label(combo), True, 0.0, tier="bounded")
            if on_result:
                on_result(results[combo])
        full = [c for c in combos if assigned[c] == "full" and statics[c].ok]
        for combo in combos:
            if combo not in full and on_result:
                on_result(results[combo])
        if full:
            start = time.monotonic()
            wheel = build_riso_wheel(source, base / "wheels") if RISO_BESIDE_PROJECT else None
            phases["riso wheel"] = time.monotonic() - start
            with shared_services(base, [features.implied_services(c) for c in full]) as services_env:
                settings = Settings(source, base / "full", services_env, wheel, shutil.which("uv") is not None)
                targets = [_copy_of_render(c, renders[c]) for c in full]
                start = time.monotonic()

                def merged(result: ComboResult) -> None:
                    combo = full[[t.label for t in targets].index(result.label)]
                    _merge(results[combo], result)
                    if on_result:
                        on_result(results[combo])

                _pool(targets, settings, jobs, merged, static=False)
                phases["full tier"] = time.monotonic() - start
        return MatrixRun([results[c] for c in sorted(assigned, key=lambda c: (len(c), c))], phases)
    finally:
        if not keep and work is None:
            shutil.rmtree(base, ignore_errors=True)


def _merge(into: ComboResult, full: ComboResult) -> None:
    into.steps += [s for s in full.steps if s.name != "render"] + [
        StepResult("copy", s.ok, s.seconds, s.output) for s in full.steps if s.name == "render" and not s.ok
    ]
    into.tier = "full"
    into.seconds += full.seconds
    into.ok = into.ok and full.ok


def _copy_of_render(combo: tuple[str, ...], rendered: Path) -> Target:
    def prepare(folder: Path, riso_source: Path) -> None:
        shutil.copytree(rendered, folder, ignore=shutil.ignore_patterns(*static.SKIP_DIRS))

    return Target(label(combo), slug(combo), prepare, tuple(features.implied_services(combo)), len(combo))


def _render_all(
    combos: Sequence[tuple[str, ...]], folder: Path, source: Path, jobs: int, phases: dict[str, float]
) -> tuple[dict[tuple[str, ...], Path], dict[tuple[str, ...], StepResult]]:
    """Render every combination straight from the blueprint folder, in `jobs` processes (Copier is pure Python)."""
    start = time.monotonic()
    renders = {c: folder / slug(c) for c in combos}
    blueprint = str(blueprint_store.installed_blueprint())
    jobs_ = [(c, renders[c], blueprint, source) for c in combos]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        steps = dict(zip(combos, pool.map(_render_one, jobs_), strict=True))
    phases["render"] = time.monotonic() - start
    return renders, steps


def _render_one(job: tuple[tuple[str, ...], Path, str, Path]) -> StepResult:
    combo, dest, blueprint, source = job
    start = time.monotonic()
    shutil.rmtree(dest, ignore_errors=True)
    try:
        generate.render(dest, {**answers(combo, PROJECT_NAME), "riso_requirement": str(source)}, src=blueprint)
        tomllib.loads((dest / "pyproject.toml").read_text())
    except (RisoError, OSError, tomllib.TOMLDecodeError) as problem:
        return StepResult("render", False, time.monotonic() - start, str(problem))
    return StepResult("render", True, time.monotonic() - start)


def _static_tier(
    renders: Mapping[tuple[str, ...], Path],
    rendered: Mapping[tuple[str, ...], StepResult],
    base: Path,
    cache_dir: Path,
    schemas: Path | None,
    jobs: int,
    phases: dict[str, float],
) -> dict[tuple[str, ...], ComboResult]:
    results = {c: ComboResult(label(c), step.ok, step.seconds, [step], "static") for c, step in rendered.items()}
    good = {label(c): renders[c] for c in renders if rendered[c].ok}
    if not good:
        return results
    cache = static.Cache.open(cache_dir / "results.json")
    start = time.monotonic()
    env, made = static.shared_env(cache_dir / "envs", static.union_requirements(good.values()))
    phases["shared env"] = time.monotonic() - start
    if not made.ok:
        for result in results.values():
            _add(result, "shared env", made)
        return results
    package = PROJECT_NAME.replace("-", "_")
    for name in ("ruff", "imports+schemas"):
        start = time.monotonic()
        if name == "ruff":
            found = static.ruff_checks(good, env, cache)
        else:
            found = static.probe_checks(good, package, env, schemas, cache)
        phases[name] = time.monotonic() - start
        for combo, result in results.items():
            if label(combo) in found:
                first, second = found[label(combo)]
                steps = ("ruff check", "ruff format") if name == "ruff" else ("imports", "schemas")
                _add(result, steps[0], first)
                _add(result, steps[1], second)
    start = time.monotonic()
    ordered = [(label(c), renders[c]) for c in renders if label(c) in good]
    checked = static.mypy_checks(ordered, env, base / "static", cache, jobs)
    phases["mypy"] = time.monotonic() - start
    for combo, result in results.items():
        if label(combo) in checked:
            _add(result, "mypy", checked[label(combo)])
    cache.save()
    return results


def _add(result: ComboResult, name: str, outcome: static.Outcome) -> None:
    result.steps.append(StepResult(name, outcome.ok, outcome.seconds, outcome.output, outcome.cached))
    result.seconds += outcome.seconds
    result.ok = result.ok and outcome.ok


def table(results: Sequence[ComboResult]) -> list[tuple[str, str, str]]:
    """Rows (combination, result, seconds) for printing."""
    return [(r.label, _verdict(r), f"{r.seconds:.1f}") for r in results]


def _verdict(result: ComboResult) -> str:
    if result.ok:
        return "ok"
    failed = result.failed_step
    return f"FAIL ({failed.name})" if failed else "FAIL"
