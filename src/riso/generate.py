"""The generator: riso's blueprint rendered and evolved with Copier's Python API.

- `new` validates the name and feature set, renders the installed blueprint into an empty folder and
  makes the folder a git repository with one commit (Copier merges later changes with git).
- `add` renders the project again with a larger feature set as a Copier update: Copier renders the old
  answers and the new ones and merges the difference into the project, so the manifest, code and
  dependencies follow while the user's own edits stay.
- `update` brings a newer blueprint into the project the same way (Copier's 3-way merge); conflicts are
  left as Copier's inline markers and reported.

Where Copier finds versioned blueprints (a requirement of `update`) is `riso.blueprint_store`'s concern:
projects record `_src_path: ~/.local/share/riso/blueprints` and `_commit: <riso version>+b<tree id>`.
A project whose `_src_path` is an ordinary template repository (a fork of the blueprint with release
tags) is updated to that repository's latest tag instead.

This module never prints; Copier runs quiet.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from riso import blueprint_store as store
from riso import coordinates, locking
from riso.errors import RisoError
from riso.features import FEATURES, normalise, unknown_features
from riso.names import package_name, validate_package_name, validate_project_name

ANSWERS_FILE = ".copier-answers.yml"

TEMPLATES: dict[str, tuple[str, ...]] = {
    "api": ("api", "cache", "database", "monitoring", "tasks"),
    "minimal": ("api",),
}

_GIT_FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "riso",
    "GIT_AUTHOR_EMAIL": "riso@localhost",
    "GIT_COMMITTER_NAME": "riso",
    "GIT_COMMITTER_EMAIL": "riso@localhost",
}


@dataclass(frozen=True)
class Project:
    path: Path
    project_name: str
    package_name: str
    features: list[str]
    blueprint: str


@dataclass(frozen=True)
class AddResult:
    path: Path
    added: list[str]
    present: list[str]
    features: list[str]


@dataclass(frozen=True)
class UpdateResult:
    path: Path
    old: str
    new: str
    conflicts: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


# --- validation -------------------------------------------------------------------------------


def check_features(names: Sequence[str]) -> list[str]:
    unknown = unknown_features(list(names))
    if unknown:
        known = ", ".join(sorted(FEATURES))
        raise RisoError(f"unknown feature {unknown[0]!r}", f"known features: {known}")
    return normalise(list(names))


def template_features(template: str, extra: Sequence[str] = ()) -> list[str]:
    """The features of a starter template plus `extra` (`--with`)."""
    if template not in TEMPLATES:
        known = ", ".join(sorted(TEMPLATES))
        raise RisoError(f"unknown template {template!r}", f"known templates: {known}")
    return check_features([*TEMPLATES[template], *extra])


def parse_feature_list(values: Sequence[str]) -> list[str]:
    """`["api,database", "cache"]` -> `["api", "database", "cache"]` (commas or separate values)."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _check_empty_target(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise RisoError(f"{dest} exists and is not a folder", "choose a new folder for the project")
    if dest.is_dir() and any(dest.iterdir()):
        raise RisoError(f"{dest} is not empty; nothing was written", "choose a new or empty folder")


# --- Copier plumbing --------------------------------------------------------------------------


def _git_has_identity() -> bool:
    if os.environ.get("GIT_AUTHOR_EMAIL") and os.environ.get("GIT_COMMITTER_EMAIL"):
        return True
    done = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True, check=False)
    return bool(done.stdout.strip())


@contextmanager
def _git_identity() -> Iterator[None]:
    """Copier commits in scratch repositories; give git an identity when the user has none configured."""
    if _git_has_identity():
        yield
        return
    saved = {k: os.environ.get(k) for k in _GIT_FALLBACK_IDENTITY}
    os.environ.update(_GIT_FALLBACK_IDENTITY)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def copier_errors(action: str) -> Iterator[None]:
    from copier.errors import CopierError

    try:
        with _git_identity():
            yield
    except RisoError:
        raise
    except (CopierError, ValueError, TypeError) as problem:
        first = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
        raise RisoError(f"{action} failed: {first}") from None


def render(
    dest: Path,
    answers: Mapping[str, Any],
    *,
    src: str | None = None,
    ref: str | None = None,
    defaults: bool = True,
) -> str:
    """Render the blueprint into `dest` (created, or empty) with `answers`; return the blueprint version.

    `src`/`ref` default to the installed blueprint, recorded in the store.
    """
    from copier import run_copy  # imported here: `riso up` and friends must not pay for Copier

    if src is None:
        src, ref = store.store_url(), store.record_installed()
    existed = dest.exists()
    try:
        with copier_errors("rendering the blueprint"):
            run_copy(
                src,
                dest,
                data={**coordinates.copier_data(), **answers},
                vcs_ref=ref,
                defaults=defaults,
                unsafe=True,
                quiet=True,
                overwrite=True,
            )
    except BaseException:
        _clear(dest, existed)
        raise
    if not (dest / ANSWERS_FILE).is_file():
        raise RisoError(
            f"the blueprint wrote no {ANSWERS_FILE}",
            "it needs a '{{ _copier_conf.answers_file }}.jinja' file; `riso add`/`riso update` depend on it",
        )
    return str(read_answers(dest).get("_commit", ref or ""))


def _clear(dest: Path, existed: bool) -> None:
    """Undo a failed render: remove what it wrote (the target was new or empty before)."""
    if not dest.exists():
        return
    if not existed:
        shutil.rmtree(dest, ignore_errors=True)
        return
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def read_answers(root: Path) -> dict[str, Any]:
    path = root / ANSWERS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RisoError(f"no {ANSWERS_FILE} in {root}") from None
    except yaml.YAMLError as problem:
        raise RisoError(f"{path} is not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise RisoError(f"{path} is not a mapping of answers")
    return data


# --- git --------------------------------------------------------------------------------------


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RisoError(f"git {args[0]} failed in {root}: {(done.stderr or done.stdout).strip()}")
    return done


def _inside_git_worktree(path: Path) -> bool:
    return _git(path, "rev-parse", "--is-inside-work-tree", check=False).stdout.strip() == "true"


def _git_init_commit(root: Path, message: str) -> None:
    with _git_identity():
        _git(root, "init", "--quiet")
        _git(root, "add", "--all")
        _git(root, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message)


def _require_clean_git(root: Path, command: str) -> None:
    if not _inside_git_worktree(root):
        raise RisoError(
            f"{root} is not a git repository; `{command}` merges with git",
            "run `git init && git add -A && git commit -m init` first",
        )
    dirty = _git(root, "status", "--porcelain", "--", ".").stdout.strip()
    if dirty:
        raise RisoError(
            f"{root} has uncommitted changes; `{command}` would mix them with its own",
            "commit or stash them first",
        )


def _changed_files(root: Path) -> list[str]:
    out = _git(root, "status", "--porcelain", "--untracked-files=all", "--", ".").stdout
    return sorted(line[3:] for line in out.splitlines() if line.strip())


def _conflicted_files(root: Path) -> list[str]:
    out = _git(root, "diff", "--name-only", "--diff-filter=U", "--relative").stdout
    return sorted(line for line in out.splitlines() if line.strip())


# --- commands ---------------------------------------------------------------------------------


def new(
    dest: Path,
    *,
    template: str,
    extra_features: Sequence[str] = (),
    name: str | None = None,
    defaults: bool = True,
    answers: Mapping[str, Any] | None = None,
    git_init: bool = True,
    lock: bool = True,
    src: str | None = None,
    ref: str | None = None,
) -> Project:
    """Create a project in `dest` from a starter template (+ extra features).

    With `lock`, the project's lock (`uv.lock` by default) is resolved before the first commit, so the
    commit installs as it is (`uv sync --frozen`); a failed resolution removes the render again.
    """
    features = template_features(template, extra_features)
    dest = dest.expanduser().absolute()
    project_name = validate_project_name(name or dest.name)
    package = validate_package_name(package_name(project_name), f"project name {project_name!r}")
    _check_empty_target(dest)
    data = {**(answers or {}), "project_name": project_name, "package_name": package, "features": features}
    existed = dest.exists()
    version = render(dest, data, src=src, ref=ref, defaults=defaults)
    manager = package_manager_of(dest)
    if lock and manager is not None:
        try:
            locking.lock(dest, manager)
        except BaseException:
            _clear(dest, existed)
            raise
    if git_init and not _inside_git_worktree(dest):
        _git_init_commit(dest, f"New project from riso blueprint {version}")
    return Project(dest, project_name, package, features, version)


def package_manager_of(root: Path) -> str | None:
    """The project's package manager: its Copier answer; else Poetry when a poetry.lock is there (projects
    from before the question); else None (a blueprint that asks nothing about it: nothing to lock)."""
    answer = read_answers(root).get("package_manager")
    if answer:
        return str(answer)
    return locking.POETRY.name if (root / locking.POETRY.lock_file).is_file() else None


def _relock(root: Path) -> None:
    """After `add`/`update` changed pyproject.toml, bring the project's lock (if it has one) along."""
    name = package_manager_of(root)
    if name is None or not (root / locking.manager(name).lock_file).is_file():
        return
    if not locking.lock_matches(root, name):
        locking.lock(root, name)


def checkout_root() -> Path:
    """riso's source checkout, for `riso templates sync` and the matrix (both work on a clone only)."""
    here = Path(__file__).resolve().parents[2]
    if not (here / "pyproject.toml").is_file() or not (here / "src" / "riso" / "blueprint").is_dir():
        raise RisoError("riso is not running from a source checkout", "run this from a clone of riso")
    return here


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` with Copier's answers file."""
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / ANSWERS_FILE).is_file():
            return folder
    raise RisoError(
        f"not inside a riso project: no {ANSWERS_FILE} in {here} or a parent folder",
        "run this in a project made by `riso new`",
    )


def _update_ref(answers: Mapping[str, Any]) -> str | None:
    """The blueprint version to update a project to (None: the template repository's latest tag)."""
    src = str(answers.get("_src_path") or "")
    old = str(answers.get("_commit") or "")
    if not src or not old:
        raise RisoError(f"{ANSWERS_FILE} names no template source (_src_path/_commit)", "recreate it with `riso new`")
    if not store.is_store(src):
        return None  # a template repository: Copier takes its latest release tag
    _ensure_old_blueprint(src, old)
    return store.tag_after(old, src)


def _ensure_old_blueprint(src: str, old: str) -> None:
    """The commit the project was made from must be in the store for Copier's 3-way merge."""
    if store.has_tag(old, src):
        return
    version, tree = store.split_tag(old)
    if store.tree_id(store.installed_blueprint(), store.ensure_store(store.store_path(src))).startswith(tree):
        store.record(store.installed_blueprint(), version, src)
        return
    raise RisoError(
        f"blueprint {old}, which this project was made from, is not in {src}",
        f"install riso {version.base_version} and run `riso update` with it once to record it",
    )


def _copier_update(root: Path, data: Mapping[str, Any], ref: str | None) -> None:
    """Copier's update: the template source is the answers file's `_src_path`; `ref` the version to reach."""
    from copier import run_update

    with copier_errors("updating the project"):
        run_update(
            root,
            data={**coordinates.copier_data(), **data},
            vcs_ref=ref,
            defaults=True,
            overwrite=True,
            unsafe=True,
            quiet=True,
            conflict="inline",
            skip_answered=True,
        )


def add(root: Path, features: Sequence[str]) -> AddResult:
    """Add features to the project at `root` (a Copier update with the larger feature list)."""
    wanted = check_features(features)
    answers = read_answers(root)
    current = check_features(list(answers.get("features") or []))
    missing = [f for f in wanted if f not in current]
    present = [f for f in wanted if f in current]
    if not missing:
        return AddResult(root, [], present, current)
    _require_clean_git(root, "riso add")
    src = str(answers.get("_src_path") or "")
    old = str(answers.get("_commit") or "")
    if store.is_store(src):
        _ensure_old_blueprint(src, old)
    merged = normalise([*current, *missing])
    _copier_update(root, {"features": merged}, old)  # same blueprint version: only the features change
    _relock(root)
    return AddResult(root, missing, present, merged)


def update(root: Path) -> UpdateResult:
    """Bring the installed blueprint's changes into the project at `root`."""
    answers = read_answers(root)
    _require_clean_git(root, "riso update")
    old = str(answers.get("_commit") or "")
    _copier_update(root, {}, _update_ref(answers))
    if not _conflicted_files(root):
        _relock(root)
    new_version = str(read_answers(root).get("_commit") or "")
    return UpdateResult(root, old, new_version, _conflicted_files(root), _changed_files(root))
