"""`riso new`, `riso add`, `riso update`, `riso features`, `riso templates sync`, `riso check --matrix`."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from riso import generate as gen
from riso import matrix, starters
from riso.cli.output import err, out
from riso.errors import RisoError
from riso.features import FEATURES, implied_services


def _say(message: str) -> None:
    out.print(message, soft_wrap=True)


def new(
    path: Annotated[Path, typer.Argument(help="Folder to create (must be new or empty).")],
    template: Annotated[str, typer.Option("--template", "-t", help=f"Starter: {', '.join(gen.TEMPLATES)}.")],
    with_: Annotated[
        list[str] | None, typer.Option("--with", help="Extra features, comma-separated or repeated.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Project name (default: the folder's name).")] = None,
    defaults: Annotated[bool, typer.Option("--defaults", help="Answer every other question with its default.")] = False,
    no_git: Annotated[bool, typer.Option("--no-git", help="Do not make the folder a git repository.")] = False,
    package_manager: Annotated[
        str | None, typer.Option("--package-manager", help="uv (default, uv.lock) or poetry (poetry.lock).")
    ] = None,
    no_lock: Annotated[
        bool, typer.Option("--no-lock", help="Do not resolve the lock (offline); run `uv lock` later.")
    ] = False,
) -> None:
    """Create a project from a starter template: rendered, locked, and committed as a git repository."""
    project = gen.new(
        path,
        template=template,
        extra_features=gen.parse_feature_list(with_ or []),
        name=name,
        defaults=defaults or not sys.stdin.isatty(),
        git_init=not no_git,
        lock=not no_lock,
        answers={"package_manager": package_manager} if package_manager else None,
    )
    features = ", ".join(project.features) or "none"
    _say(f"Created {escape(project.project_name)} in {escape(str(project.path))} (features: {features})")
    manager = gen.package_manager_of(project.path) or "uv"
    install = "poetry install" if manager == "poetry" else "uv sync"
    _say(f"Next: cd {escape(str(path))} && {install} && {manager} run pytest (README.md: Run it)")


def add(features: Annotated[list[str], typer.Argument(help="Features to add, e.g. database cache.")]) -> None:
    """Add features to the project in this folder: code, dependencies, manifest and services follow."""
    root = gen.project_root()
    result = gen.add(root, gen.parse_feature_list(features))
    for name in result.present:
        _say(f"Feature {name!r} is already present; nothing to do for it.")
    if result.added:
        services = ", ".join(implied_services(result.added)) or "none"
        _say(f"Added {', '.join(result.added)} (new services: {services}). Review with `git diff`, then commit.")


def update() -> None:
    """Merge the installed blueprint's changes into this project, keeping your edits."""
    result = gen.update(gen.project_root())
    if result.old == result.new and not result.changed:
        _say(f"Already up to date with blueprint {result.new}.")
        return
    _say(f"Updated from blueprint {result.old} to {result.new}: {len(result.changed)} file(s) changed.")
    if result.conflicts:
        listed = ", ".join(result.conflicts)
        raise RisoError(f"conflicts in {listed}", "resolve the <<<<<<< markers, then `git add` and commit")


def features() -> None:
    """List the features and the starter templates."""
    for feature in FEATURES.values():
        services = ", ".join(feature.services) or "-"
        _say(f"[bold]{feature.name:<11}[/] {escape(feature.summary)}  (services: {services})")
    _say("")
    for name, members in gen.TEMPLATES.items():
        _say(f"template [bold]{name:<8}[/] {', '.join(members)}")


templates_app = typer.Typer(no_args_is_help=True, help="The starters in templates/ (for `nix flake init -t`).")


@templates_app.command("sync")
def templates_sync(
    check: Annotated[
        bool, typer.Option("--check", help="Only report starters that differ from a fresh render.")
    ] = False,
) -> None:
    """Write what repeats features.py (copier.yml's features, modules/features.json), then render the
    starters into templates/ (uv.lock kept while it matches, else made anew)."""
    tables = starters.sync_feature_table(check=check)
    if check and tables:
        raise RisoError(f"{tables[0]} is stale (it repeats src/riso/features.py)", "run `riso templates sync`")
    for path in tables:
        _say(f"{path}: written from features.py")
    reports = starters.sync(check=check)
    stale = [r for r in reports if r.stale]
    for report in reports:
        if check:
            state = f"stale: {', '.join(report.stale)}" if report.stale else "up to date"
        else:
            state = f"{len(report.stale)} file(s) written" if report.stale else "unchanged"
            state += f" ({starters.LOCK} made anew)" if report.relocked else ""
        _say(f"templates/{report.name}: {state}")
    if check and stale:
        first = stale[0]
        raise RisoError(
            f"templates/{first.name} is stale ({first.stale[0]} differs from a fresh render)",
            "run `riso templates sync` and commit the result",
        )


def check(
    matrix_: Annotated[
        bool, typer.Option("--matrix", help="Check every valid feature combination (tiers: static, full).")
    ] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Combinations run at the same time.")] = 2,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Only this feature set, e.g. api,database (repeatable).")
    ] = None,
    exhaustive: Annotated[
        bool, typer.Option("--exhaustive", help="Full tests (install + pytest) on every combination.")
    ] = False,
    shard: Annotated[
        str | None, typer.Option("--shard", help="Only shard K of N (e.g. 2/4), split deterministically.")
    ] = None,
    strength: Annotated[
        int, typer.Option("--strength", min=2, max=3, help="Covering array strength: 2 (pairwise) or 3.")
    ] = 2,
    every: Annotated[
        bool,
        typer.Option("--every", help="Static checks on every combination, however many (shard them across runners)."),
    ] = False,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Keep static results and the shared env here across runs.")
    ] = None,
    schemas: Annotated[
        Path | None, typer.Option("--schemas", help="Folder of compose/devcontainer JSON schemas.")
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the work folder (printed) for inspection.")] = False,
) -> None:
    """Check riso's blueprint: every valid combination statically, a covering set against real services."""
    if not matrix_:
        raise RisoError("nothing to check", "pass --matrix")
    assigned = matrix.tiers(matrix.select(only), exhaustive=exhaustive, strength=strength, every=every)
    if shard:
        assigned = matrix.shard(assigned, *matrix.parse_shard(shard))
    schema_dir = schemas.resolve() if schemas else matrix.default_schemas()
    if schemas is not None and not schemas.is_dir():
        raise RisoError(f"--schemas {schemas} is not a folder", "pass the folder holding compose-spec.json")
    work = Path(tempfile.mkdtemp(prefix="riso-matrix-")) if keep else None
    full = sum(t == "full" for t in assigned.values())
    bounded = sum(t == "bounded" for t in assigned.values())
    _say(
        f"Matrix: {len(assigned) - bounded} combination(s) statically checked, {full} fully tested"
        + f" ({'exhaustive' if exhaustive else f'covering set, strength {strength}'})"
        + (f", {bounded} bounded (not rendered: see riso.interactions; --every checks them)" if bounded else "")
        + (f", shard {shard}" if shard else "")
        + f", {jobs} at a time"
        + (f", work folder {work}" if work else "")
    )
    if schema_dir is None:
        _say("Schemas: no folder found (RISO_SCHEMAS or --schemas); compose/devcontainer validation skipped")
    start = time.monotonic()

    def show(result: matrix.ComboResult) -> None:
        _say(f"  {result.label:<32} {result.tier:<7} {'ok' if result.ok else 'FAIL':<5} {result.seconds:7.1f}s")

    done = matrix.check(
        assigned, jobs=jobs, work=work, keep=keep, cache_dir=cache_dir, schemas=schema_dir, on_result=show
    )
    results = done.results
    total = time.monotonic() - start
    _say("")
    _say(f"| {'combination':<32} | {'tier':<6} | {'result':<18} | {'seconds':>7} |")
    _say(f"| {'-' * 32} | {'-' * 6} | {'-' * 18} | {'-' * 7}:|")
    for result, (label, verdict, seconds) in zip(results, matrix.table(results), strict=True):
        _say(f"| {label:<32} | {result.tier:<6} | {verdict:<18} | {seconds:>7} |")
    failed = [r for r in results if not r.ok]
    tested = sum(r.tier == "full" for r in results)
    bounded_done = sum(r.tier == "bounded" for r in results)
    _say(
        f"\n{len(results) - len(failed)}/{len(results)} passed in {total:.1f}s"
        f" ({len(results) - bounded_done} static, {tested} full"
        + (f", {bounded_done} bounded)" if bounded_done else ")")
    )
    for result in failed:
        step = result.failed_step
        err.print(
            f"\n[bold red]{escape(result.label)}[/]: {step.name if step else '?'} failed; last lines:", soft_wrap=True
        )
        err.print(escape(result.tail()), soft_wrap=True, highlight=False)
    if failed:
        raise RisoError(f"{len(failed)} of {len(results)} combination(s) failed: {', '.join(r.label for r in failed)}")


def register(app: typer.Typer) -> None:
    app.command("new")(new)
    app.command("add")(add)
    app.command("update")(update)
    app.command("features")(features)
    app.add_typer(templates_app, name="templates")
    app.command("check")(check)
