"""The starters in `templates/` (what `nix flake init -t riso#NAME` copies), rendered from the blueprint.

Each starter is a complete project: the blueprint rendered with fixed answers, plus its `poetry.lock`.
Renders are byte-for-byte deterministic: the answers are fixed, the blueprint version in the answers
file is a function of the blueprint's content (`riso.blueprint_store`), and `_src_path` is always the
default store path (`~/.local/share/riso/blueprints`), whatever `$RISO_BLUEPRINT_STORE` says.

The lock is the one part that needs the network: it is kept as it is while `poetry check --lock` says it
still matches the rendered pyproject.toml (offline), and made anew with `poetry lock` otherwise. So
`--check` is stable and offline; it reports a starter whose lock no longer matches as stale.
"""

from __future__ import annotations

import filecmp
import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from riso import __version__, blueprint_store, generate
from riso.errors import RisoError

STARTERS: dict[str, dict[str, str]] = {
    "api": {"project_name": "myapi", "description": "An API service with a database, a cache and monitoring"},
    "minimal": {"project_name": "myapp", "description": "A minimal API service"},
}
LOCK = "poetry.lock"
POETRY_ENV = "RISO_POETRY"


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


def _poetry_command() -> list[str]:
    """`$RISO_POETRY` (a command line, e.g. a wrapper around poetry) or the `poetry` on PATH."""
    override = shlex.split(os.environ.get(POETRY_ENV, ""))
    if override:
        return override
    poetry = shutil.which("poetry")
    if poetry is None:
        raise RisoError("poetry is not installed; starters carry a poetry.lock", "install poetry (pipx install poetry)")
    return [poetry]


def _poetry(folder: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "POETRY_ACTIVE")}
    env["POETRY_VIRTUALENVS_CREATE"] = "false"
    try:
        return subprocess.run(
            [*_poetry_command(), *args, "--no-interaction", "--directory", str(folder)],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RisoError(f"poetry {args[0]} timed out after {timeout:.0f}s in {folder}") from None


def _lock_matches(folder: Path) -> bool:
    return _poetry(folder, "check", "--lock", timeout=300).returncode == 0


def _relock(folder: Path) -> None:
    done = _poetry(folder, "lock", timeout=1800)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:]
        raise RisoError(f"poetry lock failed for {folder.name}: {' '.join(last)}")


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
        if not (fresh / LOCK).is_file() or not _lock_matches(fresh):
            if check:
                report.stale = sorted({*differences(fresh, target), LOCK})
                return report
            (fresh / LOCK).unlink(missing_ok=True)
            _relock(fresh)
            report.relocked = True
        report.stale = differences(fresh, target)
        if not check and report.stale:
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(fresh, target, symlinks=True)
    return report


def sync(*, check: bool = False, names: list[str] | None = None) -> list[StarterReport]:
    """Render every starter into `templates/` (or, with `check`, report the stale ones)."""
    base = templates_dir()
    unknown = [n for n in names or [] if n not in STARTERS]
    if unknown:
        raise RisoError(f"unknown starter {unknown[0]!r}", "known: " + ", ".join(STARTERS))
    return [sync_one(name, base / name, check=check) for name in names or list(STARTERS)]
