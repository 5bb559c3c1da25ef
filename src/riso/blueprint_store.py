"""A git store of blueprint versions, so that Copier can update projects made from a packaged folder.

Copier's `update` renders the template twice, at the commit a project was made from and at the new one,
and merges the difference into the project (a 3-way merge). It therefore needs the template as commits
of a git repository, recorded in the project's `.copier-answers.yml` as `_src_path` and `_commit`.
riso ships its blueprint as a plain folder (package data), so it keeps such a repository itself:

- The store is a git repository at `~/.local/share/riso/blueprints` (`$RISO_BLUEPRINT_STORE` overrides).
  Projects record that path verbatim, `~` included, so it means the same for every user and machine.
- Every time riso renders, it records the installed blueprint folder as one commit whose tree is the
  folder and whose metadata are fixed, tagged `<riso version>+b<tree id>` (PEP 440, e.g.
  `0.1.0+b1a2b3c4d5e6f`). The commit is a pure function of the blueprint's content, so the same riso
  release gives the same `_commit` on any machine (the starters' answers files are byte-for-byte stable).
- A project made on another machine (or from a starter) can be updated wherever its old blueprint can
  be recorded: by the riso release that made it, whose blueprint has the same tree id.
- When the blueprint changed within one riso version (a development checkout), the new tag is the old
  one's version with its post-release number raised (`0.1.0.post1+b…`), so Copier never sees a downgrade.

`$RISO_BLUEPRINT` points riso at another blueprint folder (a working copy, a test fixture).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from packaging.version import InvalidVersion, Version

from riso import __version__
from riso.errors import RisoError

DEFAULT_STORE = "~/.local/share/riso/blueprints"
STORE_ENV = "RISO_BLUEPRINT_STORE"
BLUEPRINT_ENV = "RISO_BLUEPRINT"
_MARKER = "riso.blueprintstore"
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache"})
_FIXED_IDENTITY = {
    "GIT_AUTHOR_NAME": "riso",
    "GIT_AUTHOR_EMAIL": "riso@localhost",
    "GIT_AUTHOR_DATE": "1970-01-01T00:00:00+0000",
    "GIT_COMMITTER_NAME": "riso",
    "GIT_COMMITTER_EMAIL": "riso@localhost",
    "GIT_COMMITTER_DATE": "1970-01-01T00:00:00+0000",
}


def installed_blueprint() -> Path:
    """The blueprint folder riso renders from: `$RISO_BLUEPRINT`, else the one shipped in the package."""
    override = os.environ.get(BLUEPRINT_ENV)
    folder = Path(override) if override else Path(str(resources.files("riso") / "blueprint"))
    if not (folder / "copier.yml").is_file():
        where = f"${BLUEPRINT_ENV}={override}" if override else str(folder)
        raise RisoError(f"no blueprint at {where}: copier.yml is missing", "reinstall riso or fix the path")
    return folder


def store_url() -> str:
    """The store as recorded in projects (`_src_path`)."""
    return os.environ.get(STORE_ENV) or DEFAULT_STORE


def store_path(url: str | None = None) -> Path:
    return Path(url or store_url()).expanduser()


def is_store(url: str) -> bool:
    """Whether `url` (a project's `_src_path`) names a riso blueprint store rather than a template repository."""
    path = store_path(url)
    if url == DEFAULT_STORE or url == os.environ.get(STORE_ENV):
        return True
    return (path / ".git").is_dir() and _git(path, "config", "--get", _MARKER, check=False) == "true"


def _git(
    repo: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None, check: bool = True
) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if check and done.returncode != 0:
        raise RisoError(f"git {args[0]} failed in {repo}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def ensure_store(path: Path) -> Path:
    """Create the store repository at `path` when missing; return `path`."""
    if not (path / ".git").is_dir():
        path.mkdir(parents=True, exist_ok=True)
        _git(path, "init", "--quiet")
        _git(path, "config", _MARKER, "true")
    return path


def _files(folder: Path) -> list[tuple[str, str]]:
    """(git mode, posix relative path) of every file, sorted; caches and bytecode left out."""
    found: list[tuple[str, str]] = []
    for current, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in names:
            if name.endswith((".pyc", ".pyo")):
                continue
            full = Path(current, name)
            mode = "100755" if os.access(full, os.X_OK) else "100644"
            found.append((mode, full.relative_to(folder).as_posix()))
    return sorted(found, key=lambda item: item[1])


def tree_id(folder: Path, store: Path) -> str:
    """Write `folder`'s files into the store's object database; return the git tree id of the folder."""
    files = _files(folder)
    shas = _git(store, "hash-object", "-w", "--stdin-paths", stdin="".join(f"{folder / p}\n" for _, p in files))
    index_info = "".join(f"{mode} {sha}\t{p}\n" for (mode, p), sha in zip(files, shas.split(), strict=True))
    with tempfile.TemporaryDirectory(prefix="riso-index-") as tmp:
        index_env = {"GIT_INDEX_FILE": str(Path(tmp, "index"))}
        _git(store, "update-index", "--add", "--index-info", env=index_env, stdin=index_info)
        return _git(store, "write-tree", env=index_env)


def split_tag(tag: str) -> tuple[Version, str]:
    """`0.1.0.post1+b1a2b…` -> (Version('0.1.0.post1'), '1a2b…')."""
    try:
        version = Version(tag)
    except InvalidVersion:
        raise RisoError(f"{tag!r} is not a riso blueprint version") from None
    local = version.local or ""
    if not local.startswith("b"):
        raise RisoError(f"{tag!r} is not a riso blueprint version (no +b<tree> part)")
    return Version(version.public), local[1:]


def has_tag(tag: str, url: str | None = None) -> bool:
    path = store_path(url)
    return (path / ".git").is_dir() and bool(_git(path, "tag", "--list", tag, check=False))


def record(folder: Path, version: Version, url: str | None = None) -> str:
    """Commit `folder` into the store as blueprint `version` (idempotent); return its tag."""
    store = store_path(url)
    ensure_store(store)
    tree = tree_id(folder, store)
    tag = f"{version}+b{tree[:12]}"
    if not has_tag(tag, url):
        commit = _git(store, "commit-tree", tree, "-m", f"riso blueprint {tag}", env=_FIXED_IDENTITY)
        _git(store, "update-ref", f"refs/tags/{tag}", commit)
    return tag


def record_installed(url: str | None = None) -> str:
    """Record the installed blueprint under riso's own version."""
    return record(installed_blueprint(), Version(__version__), url)


def tag_after(old_tag: str, url: str | None = None) -> str:
    """The tag to update a project made from `old_tag` to: the installed blueprint, never a downgrade."""
    folder = installed_blueprint()
    current = Version(__version__)
    old_version, old_tree = split_tag(old_tag)
    store = store_path(url)
    ensure_store(store)
    if tree_id(folder, store).startswith(old_tree):
        return record(folder, old_version, url) if old_version > current else record(folder, current, url)
    if old_version.release == current.release and old_version >= current:
        post = (old_version.post or 0) + 1
        return record(folder, Version(f"{old_version.base_version}.post{post}"), url)
    if old_version > current:
        raise RisoError(
            f"this project was made with blueprint {old_tag}, newer than riso {current}",
            "install a newer riso before `riso update`",
        )
    return record(folder, current, url)
