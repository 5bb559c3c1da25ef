"""The static tier of the matrix: many rendered combinations checked cheaply, in one shared environment.

- One virtual environment holds the union of every combination's dependencies (made once per set of
  requirements, reused while it matches).
- Results are content-addressed: a file's ruff result is keyed by the hash of its content, its path in
  the project, the `[tool.ruff]` table and ruff's version; a combination's mypy and import results by the
  hash of all its checked files, the `[tool.mypy]` table and the environment. Identical files or
  identical trees are checked once, across combinations and (with a kept cache folder) across runs.
- `ruff check` and `ruff format --check` run once over every file not yet in the cache, across all
  combinations (ruff reads each file's own pyproject.toml).
- Imports of every module and compose/devcontainer schema validation run in one Python process for all
  combinations (`riso/matrix_probe.py`).
- mypy runs once per combination in a fixed working tree per worker: each combination is synced into it
  (only changed files are written), so mypy's own incremental cache rechecks only what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

SKIP_DIRS = frozenset({".venv", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__", ".git"})
SCHEMA_FILES = {
    "compose": "compose-spec.json",
    "devcontainer": "devContainer.base.schema.json",
    "devcontainer-feature": "devContainerFeature.schema.json",
}
PROBE_PACKAGES = ("jsonschema>=4.22", "json5>=0.9", "pyyaml>=6")
TAIL = 15  # lines of a failed probe's stderr shown


@dataclass
class Outcome:
    """One check of one combination: `output` is empty when it passed."""

    ok: bool
    seconds: float
    output: str = ""
    cached: bool = False


@dataclass
class Cache:
    """Content-addressed results: kind -> key -> output ("" = passed), kept in one JSON file."""

    path: Path
    data: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path) -> Cache:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        return cls(path, loaded if isinstance(loaded, dict) else {})

    def get(self, kind: str, key: str) -> str | None:
        return self.data.get(kind, {}).get(key)

    def put(self, kind: str, key: str, output: str) -> None:
        self.data.setdefault(kind, {})[key] = output

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(self.data), encoding="utf-8")
        partial.replace(self.path)


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file of a rendered project (relative POSIX path -> content), caches and environments aside."""
    found: dict[str, bytes] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in files:
            path = Path(folder) / name
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def tool_table(root: Path, tool: str) -> str:
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return json.dumps(data.get("tool", {}).get(tool, {}), sort_keys=True)


def _run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 1800
) -> tuple[int, str]:
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return 124, f"[{argv[0]}: timed out after {timeout:.0f}s]"
    except OSError as problem:
        return 127, f"[cannot run {argv[0]}: {problem}]"
    return done.returncode, done.stdout + done.stderr


# --- requirements and the shared environment ------------------------------------------------------


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


def union_requirements(roots: Iterable[Path]) -> list[str]:
    """Every combination's dependencies and dev group, once each, sorted."""
    found: set[str] = set()
    for root in roots:
        pyproject = root / "pyproject.toml"
        found.update(tomllib.loads(pyproject.read_text()).get("project", {}).get("dependencies", []))
        found.update(dev_requirements(pyproject))
    return sorted(found)


@dataclass(frozen=True)
class SharedEnv:
    path: Path
    key: str  # hash of what is installed in it: part of every cached mypy/import result

    @property
    def bin(self) -> Path:
        return self.path / "bin"


def shared_env(folder: Path, requirements: Sequence[str]) -> tuple[SharedEnv, Outcome]:
    """One environment with `requirements` (and the probe's needs), reused while they match."""
    start = time.monotonic()
    wanted = "\n".join([*requirements, *PROBE_PACKAGES]) + "\n"
    key = digest(sys.version, wanted)
    env = SharedEnv(folder / f"env-{key[:16]}", key)
    marker = env.path / "riso-requirements.txt"
    if marker.is_file() and marker.read_text() == wanted:
        return env, Outcome(True, time.monotonic() - start, cached=True)
    shutil.rmtree(env.path, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("uv"):
        steps = [
            ["uv", "venv", "--quiet", "--python", sys.executable, str(env.path)],
            ["uv", "pip", "install", "--quiet", "--python", str(env.bin / "python"), *requirements, *PROBE_PACKAGES],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", str(env.path)],
            [str(env.bin / "python"), "-m", "pip", "install", "--quiet", *requirements, *PROBE_PACKAGES],
        ]
    for argv in steps:
        code, output = _run(argv, folder)
        if code != 0:
            return env, Outcome(False, time.monotonic() - start, f"{output}\n[exit code {code}: {' '.join(argv)}]")
    marker.write_text(wanted)
    return env, Outcome(True, time.monotonic() - start)


def _tool_env(env: SharedEnv, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MYPYPATH", "RISO_PLAN"}
    base = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("DATABASE_", "REDIS_"))}
    base.update({"VIRTUAL_ENV": str(env.path), "PATH": f"{env.bin}{os.pathsep}{base.get('PATH', '')}"})
    base.update(extra or {})
    return base


def tool_version(env: SharedEnv, tool: str) -> str:
    return _run([str(env.bin / tool), "--version"], env.path, _tool_env(env))[1].strip()


# --- ruff: per file, content-addressed, one invocation for all combinations -----------------------


def _python_files(files: Mapping[str, bytes]) -> list[str]:
    return sorted(p for p in files if p.endswith((".py", ".pyi")))


def ruff_checks(trees: Mapping[str, Path], env: SharedEnv, cache: Cache) -> dict[str, tuple[Outcome, Outcome]]:
    """(`ruff check`, `ruff format --check`) for every tree (label -> rendered project)."""
    start = time.monotonic()
    version = tool_version(env, "ruff")
    keys: dict[str, dict[str, str]] = {}  # label -> relative path -> key
    todo: dict[str, Path] = {}  # key -> one file with that content, path and config
    for label_, root in trees.items():
        files = tree_files(root)
        config = tool_table(root, "ruff")
        keys[label_] = {p: digest(version, config, p, files[p]) for p in _python_files(files)}
        for rel, key in keys[label_].items():
            if cache.get("ruff check", key) is None or cache.get("ruff format", key) is None:
                todo.setdefault(key, root / rel)
    by_path = {str(path): key for key, path in todo.items()}
    check_out, format_out = _ruff_batch(sorted(by_path), env)
    for path, key in by_path.items():
        cache.put("ruff check", key, check_out.get(path, ""))
        cache.put("ruff format", key, format_out.get(path, ""))
    share = (time.monotonic() - start) / max(len(trees), 1)
    results: dict[str, tuple[Outcome, Outcome]] = {}
    for label_, per_file in keys.items():
        fresh = any(k in todo for k in per_file.values())
        pair = []
        for kind in ("ruff check", "ruff format"):
            text = "\n".join(o for o in (cache.get(kind, k) for k in per_file.values()) if o)
            pair.append(Outcome(not text, share, text, cached=not fresh))
        results[label_] = (pair[0], pair[1])
    return results


def _ruff_batch(paths: Sequence[str], env: SharedEnv) -> tuple[dict[str, str], dict[str, str]]:
    """Findings per file path of `ruff check` and `ruff format --check` over `paths` (absolute)."""
    if not paths:
        return {}, {}
    ruff, tool_env = str(env.bin / "ruff"), _tool_env(env)
    checked: dict[str, list[str]] = {}
    formatted: dict[str, str] = {}
    for chunk in _chunks(paths, 500):
        code, output = _run(
            [ruff, "check", "--no-cache", "--output-format", "json", "--quiet", *chunk], env.path, tool_env
        )
        try:
            findings = json.loads(output[output.index("[") :]) if code in (0, 1) else None
        except ValueError:
            findings = None
        if findings is None:  # ruff itself failed: every file of the chunk carries its message
            for path in chunk:
                checked.setdefault(path, []).append(f"ruff check failed (exit code {code}): {output.strip()}")
        else:
            for item in findings:
                row = (item.get("location") or {}).get("row", "?")
                checked.setdefault(item["filename"], []).append(
                    f"{item['filename']}:{row}: {item.get('code') or ''} {item['message']}"
                )
        code, output = _run([ruff, "format", "--no-cache", "--check", *chunk], env.path, tool_env)
        for line in output.splitlines():
            if line.startswith("Would reformat: "):
                formatted[line.removeprefix("Would reformat: ").strip()] = line
        if code not in (0, 1):
            for path in chunk:
                formatted.setdefault(path, f"ruff format failed (exit code {code}): {output.strip()}")
    return {p: "\n".join(v) for p, v in checked.items()}, formatted


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- imports and schemas: one process for all combinations ----------------------------------------


def _schema_targets(files: Iterable[str]) -> list[list[str]]:
    found = []
    for rel in sorted(files):
        name = rel.rsplit("/", 1)[-1]
        if name in ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml"):
            found.append([rel, "compose"])
        elif rel == ".devcontainer/devcontainer.json" or name == ".devcontainer.json":
            found.append([rel, "devcontainer"])
        elif name == "devcontainer-feature.json":
            found.append([rel, "devcontainer-feature"])
    return found


def probe_checks(
    trees: Mapping[str, Path], package: str, env: SharedEnv, schemas: Path | None, cache: Cache
) -> dict[str, tuple[Outcome, Outcome]]:
    """(imports of every module, schema validation) for every tree; cached by content."""
    start = time.monotonic()
    schema_paths = {n: schemas / f for n, f in SCHEMA_FILES.items()} if schemas else {}
    probe = digest(Path(__file__).with_name("matrix_probe.py").read_bytes())  # a changed probe re-checks all
    schema_key = digest(probe, *(p.read_bytes() for p in schema_paths.values())) if schemas else "none"
    jobs: list[dict[str, Any]] = []
    keys: dict[str, tuple[str, str]] = {}
    for label_, root in trees.items():
        files = tree_files(root)
        src = {p: c for p, c in files.items() if p.startswith("src/")}
        targets = _schema_targets(files) if schemas else []
        import_key = digest(probe, env.key, package, *(f"{p}\0" for p in sorted(src)), *(src[p] for p in sorted(src)))
        schema_file_key = digest(schema_key, *(f"{t[0]}\0{t[1]}" for t in targets), *(files[t[0]] for t in targets))
        keys[label_] = (import_key, schema_file_key)
        need_imports = cache.get("imports", import_key) is None
        if need_imports or cache.get("schemas", schema_file_key) is None:
            jobs.append(
                {"label": label_, "root": str(root), "package": package, "imports": need_imports, "files": targets}
            )
    fresh = {str(j["label"]): j for j in jobs}
    if jobs:
        found = _run_probe(jobs, schema_paths, env)
        for label_, job in fresh.items():
            import_key, schema_file_key = keys[label_]
            if job["imports"]:
                cache.put("imports", import_key, found.get(label_, {}).get("imports", "probe gave no result"))
            cache.put("schemas", schema_file_key, found.get(label_, {}).get("schemas", "probe gave no result"))
    share = (time.monotonic() - start) / max(len(trees), 1)
    results: dict[str, tuple[Outcome, Outcome]] = {}
    for label_, (import_key, schema_file_key) in keys.items():
        imports = cache.get("imports", import_key) or ""
        checked = cache.get("schemas", schema_file_key) or ""
        schema_outcome = Outcome(not checked, share, checked, cached=label_ not in fresh)
        if schemas is None:
            schema_outcome.output = "skipped: no JSON schemas folder (see --schemas)"
        results[label_] = (Outcome(not imports, share, imports, cached=label_ not in fresh), schema_outcome)
    return results


def _run_probe(
    jobs: list[dict[str, Any]], schema_paths: Mapping[str, Path], env: SharedEnv
) -> dict[str, dict[str, str]]:
    probe = Path(__file__).with_name("matrix_probe.py")
    request = json.dumps({"schemas": {n: str(p) for n, p in schema_paths.items()}, "jobs": jobs})
    try:
        done = subprocess.run(
            # -P: the probe's folder (riso's modules: secrets, config, ...) must not shadow the
            # standard library or a project's imports.
            [str(env.bin / "python"), "-P", str(probe)],
            input=request,
            capture_output=True,
            text=True,
            env=_tool_env(env),
            cwd=env.path,
            timeout=1800,
            check=False,
        )
        result: dict[str, dict[str, str]] = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as problem:
        said = getattr(locals().get("done"), "stderr", "") or ""
        tail = "\n".join(said.strip().splitlines()[-TAIL:])
        failure = f"the import/schema probe failed: {problem}" + (f"\n{tail}" if tail else "")
        return {j["label"]: {"imports": failure, "schemas": failure} for j in jobs}
    return result


# --- mypy: one fixed tree per worker, mypy's incremental cache across combinations ----------------


def sync_tree(source: Path, tree: Path) -> int:
    """Make `tree` hold exactly `source`'s files, writing only those that differ; returns files written."""
    wanted = tree_files(source)
    tree.mkdir(parents=True, exist_ok=True)
    written = 0
    for rel, content in wanted.items():
        dest = tree / rel
        if not dest.is_file() or dest.read_bytes() != content:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(content)
            written += 1
    for rel in set(tree_files(tree)) - set(wanted):
        (tree / rel).unlink()
    for folder, _dirs, _files in os.walk(tree, topdown=False):  # folders left empty (a feature's package)
        here = Path(folder)
        if here != tree and here.name not in SKIP_DIRS and not any(here.iterdir()):
            here.rmdir()
    return written


def mypy_key(root: Path, env: SharedEnv, version: str) -> str:
    files = tree_files(root)
    checked = [p for p in _python_files(files) if p.startswith(("src/", "tests/", "migrations/"))]
    return digest(
        version, env.key, tool_table(root, "mypy"), *(f"{p}\0" for p in checked), *(files[p] for p in checked)
    )


def mypy_checks(
    ordered: Sequence[tuple[str, Path]],
    env: SharedEnv,
    work: Path,
    cache: Cache,
    jobs: int,
    on_done: Callable[[str, Outcome], None] | None = None,
    *,
    daemon: bool = False,
) -> dict[str, Outcome]:
    """mypy (the project's own config) for every tree, in `ordered`'s order split into `jobs` lanes of neighbours.

    Each lane is one fixed tree and one mypy cache: each combination is synced into the tree and mypy's
    incremental mode rechecks only the modules whose content (or whose dependencies' interfaces) changed.
    The project's `[tool.mypy]` table is passed as a config file of its own, without `files` (given on
    the command line). `daemon=True` uses one `dmypy` per lane instead: much faster while the
    combinations use the same third-party packages, but its fine-grained update is far slower than a
    fresh run when a combination pulls in a large package the previous one did not (SQLAlchemy), so
    it is not the default.
    """
    version = tool_version(env, "mypy")
    lanes = [list(ordered[i * len(ordered) // jobs : (i + 1) * len(ordered) // jobs]) for i in range(jobs)]
    results: dict[str, Outcome] = {}

    def lane(index: int) -> None:
        checker = MypyLane(env, work, index, daemon=daemon)
        try:
            for label_, root in lanes[index]:
                start = time.monotonic()
                key = mypy_key(root, env, version)
                known = cache.get("mypy", key)
                cached = known is not None
                if known is None:
                    known = checker.check(root)
                    cache.put("mypy", key, known)
                results[label_] = Outcome(not known, time.monotonic() - start, known, cached=cached)
                if on_done:
                    on_done(label_, results[label_])
        finally:
            checker.stop()

    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        list(pool.map(lane, range(len(lanes))))
    return results


class MypyLane:
    """One fixed working tree (and its mypy cache, or daemon) checking whatever combination is synced into it."""

    def __init__(self, env: SharedEnv, work: Path, index: int, *, daemon: bool = False) -> None:
        self.env = env
        self.daemon = daemon
        self.cache_dir = work / f"mypy-cache-{index}"
        self.tree = work / f"mypy-tree-{index}"
        self.config = work / f"mypy-{index}.toml"
        self.status = work / f"dmypy-{index}.json"
        self.tool_env = _tool_env(env, {"MYPYPATH": str(self.tree / "src")})
        self.started = False

    def check(self, root: Path) -> str:
        """mypy's findings for the project at `root` ("" when it passes)."""
        sync_tree(root, self.tree)
        table = tomllib.loads((self.tree / "pyproject.toml").read_text(encoding="utf-8"))["tool"].get("mypy", {})
        files = [f for f in table.pop("files", ["src"]) if (self.tree / f).exists()]
        text = tomlkit.dumps({"tool": {"mypy": table}})
        if not self.config.is_file() or self.config.read_text() != text:
            self.config.write_text(text)
        args = ["--config-file", str(self.config), "--no-error-summary", *files]
        code = 2
        if self.daemon:
            self.started = True
            daemon = [str(self.env.bin / "dmypy"), "--status-file", str(self.status), "run", "--"]
            code, output = _run([*daemon, *args], self.tree, self.tool_env)
        if code == 2:  # no daemon, or the daemon itself failed: one plain mypy run decides
            mypy = [str(self.env.bin / "mypy"), "--cache-dir", str(self.cache_dir)]
            code, output = _run([*mypy, *args], self.tree, self.tool_env)
        lines = [ln for ln in output.splitlines() if ln.strip() and not ln.startswith(("Daemon ", "Success: "))]
        return "" if code == 0 else ("\n".join(lines) or f"mypy exited with {code}")

    def stop(self) -> None:
        if self.started and self.status.is_file():
            _run([str(self.env.bin / "dmypy"), "--status-file", str(self.status), "stop"], self.tree, self.tool_env)
