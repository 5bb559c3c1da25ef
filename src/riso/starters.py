"""The starters in `templates/` (what `nix flake init -t riso#NAME` copies), rendered from the blueprint.

Each starter is a complete project: the blueprint rendered with fixed answers, plus its `uv.lock`.
Renders are byte-for-byte deterministic: the answers are fixed, the blueprint version in the answers
file is a function of the blueprint's content (`riso.blueprint_store`), and `_src_path` is always the
default store path (`~/.local/share/riso/blueprints`), whatever `$RISO_BLUEPRINT_STORE` says.

The lock is the one part that needs the network: it is kept as it is while `uv lock --check --offline`
says it still matches the rendered pyproject.toml, and made anew with `uv lock` otherwise. So `--check`
is stable and offline; it reports a starter whose lock is missing or no longer matches as stale.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from riso import __version__, blueprint_store, feature_table, generate, locking
from riso.errors import RisoError

STARTERS: dict[str, dict[str, str]] = {
    "api": {
        "project_name": "myapi",
        "description": "An API service with a database, a cache, background jobs and monitoring",
    },
    "minimal": {"project_name": "myapp", "description": "A minimal API service"},
}
MANAGER = locking.UV
LOCK = MANAGER.lock_file


@dataclass
class StarterReport:
    name: str
    path: Path
    stale: list[str] = field(default_factory=list)
    relocked: bool = False


def templates_dir() -> Path:
    return generate.checkout_root() / "templates"


def render(name: str, dest: Path) -> None:
    """Render starter `name` into `dest` (new or empty), without its lock."""
    answers = {**STARTERS[name], "features": list(generate.TEMPLATES[name])}
    src = blueprint_store.DEFAULT_STORE
    ref = blueprint_store.record(blueprint_store.installed_blueprint(), Version(__version__), src)
    generate.render(dest, answers, src=src, ref=ref)


def _files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def differences(fresh: Path, committed: Path) -> list[str]:
    """Paths that are missing, extra, or differ in bytes or executable bit between two trees."""
    left, right = _files(fresh), _files(committed) if committed.is_dir() else {}
    changed = set(left) ^ set(right)
    for rel in set(left) & set(right):
        a, b = left[rel], right[rel]
        if not filecmp.cmp(a, b, shallow=False) or os.access(a, os.X_OK) != os.access(b, os.X_OK):
            changed.add(rel)
    return sorted(changed)


def sync_one(name: str, target: Path, *, check: bool) -> StarterReport:
    """Render starter `name` afresh; with `check`, report how `target` differs, else replace it."""
    report = StarterReport(name, target)
    with tempfile.TemporaryDirectory(prefix=f"riso-starter-{name}-") as tmp:
        fresh = Path(tmp) / name
        render(name, fresh)
        old_lock = target / LOCK
        if old_lock.is_file():
            shutil.copy2(old_lock, fresh / LOCK)
        if not locking.lock_matches(fresh, MANAGER.name):
            if check:
                report.stale = sorted({*differences(fresh, target), LOCK})
                return report
            (fresh / LOCK).unlink(missing_ok=True)
            locking.lock(fresh, MANAGER.name)
            report.relocked = True
        report.stale = differences(fresh, target)
        if not check and report.stale:
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(fresh, target, symlinks=True)
    return report


def sync_feature_table(*, check: bool = False) -> list[str]:
    """The files that repeat features.py (feature_table): rewritten, or with `check` only named
    when stale. Done before the starters, which render from the blueprint's copier.yml."""
    stale = []
    blueprint = blueprint_store.installed_blueprint()
    if feature_table.sync_copier(blueprint, check=check):
        stale.append(str(blueprint / "copier.yml"))
    nix = generate.checkout_root() / "modules" / "features.json"
    if nix.parent.is_dir() and (not nix.is_file() or nix.read_text(encoding="utf-8") != feature_table.nix_json()):
        stale.append(str(nix))
        if not check:
            nix.write_text(feature_table.nix_json(), encoding="utf-8")
    return stale


def sync(*, check: bool = False, names: list[str] | None = None) -> list[StarterReport]:
    """Render every starter into `templates/` (or, with `check`, report the stale ones)."""
    base = templates_dir()
    unknown = [n for n in names or [] if n not in STARTERS]
    if unknown:
        raise RisoError(f"unknown starter {unknown[0]!r}", "known: " + ", ".join(STARTERS))
    return [sync_one(name, base / name, check=check) for name in names or list(STARTERS)]
