"""The project's plan without pydantic on the everyday path: a cache in `.riso/run/plan-cache.json`.

    root = project_root()                 # the nearest folder with a pyproject.toml
    loaded = load(root)                   # loaded.plan: what the runner reads; loaded.json: `riso plan --json`

The plan is computed by the full path (`riso.config` + `riso.plan`, pydantic) once; its JSON is kept
with everything it was computed from: the bytes of pyproject.toml, RISO_PLAN and the bytes of the file
it names, PATH and the modification times of the folders binaries are looked up in (a server
installed or removed changes its folder), and riso's own source files. The next command compares
those (a few reads and stats, no hashing) and, when they are equal, builds light objects from the
JSON instead of validating it again. Anything else (no cache, another input, a binary gone, an
unreadable or foreign cache file) takes the full path, which also rewrites the cache. The cache is
only ever a copy: deleting it costs one full computation.

The light objects (`PlanView` and friends) have the fields of `riso.plan_model`'s models and the
methods the runner calls (`Plan.service`, a hook's `model_dump`); tests check them field by field.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riso.errors import ConfigError

if TYPE_CHECKING:  # the models load pydantic; this module only mirrors them
    from riso.plan_model import Plan

MANIFEST = "pyproject.toml"
CACHE = Path(".riso") / "run" / "plan-cache.json"
FORMAT = 1
# Where the plan builders look for binaries besides PATH (riso.binaries, riso.services.grafana).
LOOKUP_DIRS = ("/usr/lib/postgresql", "/usr/share/grafana", "/usr/local/share/grafana")
_RISO = Path(__file__).resolve().parent


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` holding a pyproject.toml (as `riso.config.find_project_root`)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file():
            return folder
    raise ConfigError(
        f"no {MANIFEST} in {here} or any parent folder",
        "run this inside a riso project, or create one with `riso new`",
    )


# --- light copies of riso.plan_model's models ----------------------------------------------------
# Plain classes whose instances take their attributes from the JSON as they are: no validation (the
# full path validated that JSON before it was stored) and no class building at import (dataclasses
# generate code; these cost nothing until used).


class _View:
    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__dict__!r})"


class FileView(_View):
    path: str
    content: str


class ReadinessView(_View):
    type: str
    timeout: float
    path: str | None


class _HookView(_View):
    def model_dump(self) -> dict[str, Any]:
        return dict(self.__dict__)


class CreateDatabaseView(_HookView):
    type: str
    name: str


class SqlView(_HookView):
    type: str
    database: str
    sql: str


class CommandView(_HookView):
    type: str
    argv: list[str]


HookView = CreateDatabaseView | SqlView | CommandView
_HOOKS: dict[str, type[HookView]] = {"create_database": CreateDatabaseView, "sql": SqlView, "command": CommandView}


class ServiceView(_View):
    name: str
    package: str
    version: str | None
    binaries: dict[str, str | None]
    port: int
    data_dir: str
    socket_dir: str | None
    files: list[FileView]
    init: list[list[str]]
    start: list[str]
    readiness: ReadinessView
    stop_signal: str
    stop_timeout: float
    env: dict[str, str]
    depends_on: list[str]
    post_start: list[HookView]
    needs_unprivileged_user: bool
    settings: dict[str, Any]


class ProcessReadinessView(_View):
    type: str
    timeout: float
    path: str | None
    argv: list[str] | None


class ProcessView(_View):
    name: str
    command: list[str]
    env: dict[str, str]
    exports: dict[str, str]
    depends_on: list[str]
    readiness: ProcessReadinessView
    restart: str
    max_restarts: int
    backoff: float
    port: int | None
    stop_signal: str
    stop_timeout: float
    working_dir: str


class ProjectView(_View):
    name: str
    features: list[str]


class PlanView(_View):
    schema_version: int
    project: ProjectView
    services: list[ServiceView]
    processes: list[ProcessView]

    def service(self, name: str) -> ServiceView:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(name)

    def process(self, name: str) -> ProcessView:
        for proc in self.processes:
            if proc.name == name:
                return proc
        raise KeyError(name)


_CLASSES = (
    PlanView,
    ProjectView,
    ServiceView,
    ReadinessView,
    FileView,
    CreateDatabaseView,
    SqlView,
    CommandView,
    ProcessView,
    ProcessReadinessView,
)


def _checked(cls: type[_View], data: dict[str, Any]) -> dict[str, Any]:
    """`data` when it has exactly the fields of `cls` (a cache of another riso version has not)."""
    if data.keys() != cls.__annotations__.keys():
        raise KeyError(f"{cls.__name__}: {sorted(data.keys() ^ cls.__annotations__.keys())}")
    return data


def _service(data: dict[str, Any]) -> ServiceView:
    nested = {
        "readiness": ReadinessView(_checked(ReadinessView, data["readiness"])),
        "files": [FileView(_checked(FileView, f)) for f in data["files"]],
        "post_start": [_HOOKS[h["type"]](_checked(_HOOKS[h["type"]], h)) for h in data["post_start"]],
    }
    return ServiceView({**_checked(ServiceView, data), **nested})


def _process(data: dict[str, Any]) -> ProcessView:
    readiness = ProcessReadinessView(_checked(ProcessReadinessView, data["readiness"]))
    return ProcessView({**_checked(ProcessView, data), "readiness": readiness})


def view(data: dict[str, Any]) -> PlanView:
    """Light objects from a plan's JSON (as `riso plan --json` prints it); KeyError when it is not one."""
    _checked(PlanView, data)
    return PlanView(
        {
            "schema_version": data["schema_version"],
            "project": ProjectView(_checked(ProjectView, data["project"])),
            "services": [_service(s) for s in data["services"]],
            "processes": [_process(p) for p in data["processes"]],
        }
    )


def dump(obj: object) -> Any:
    """A view (or anything holding views) back as plain JSON values."""
    if isinstance(obj, _View):
        return {k: dump(v) for k, v in obj.__dict__.items()}
    if isinstance(obj, list):
        return [dump(v) for v in obj]
    return obj


def view_fields() -> dict[str, list[str]]:
    """Each light class's field names (for the test that holds them equal to the models')."""
    return {cls.__name__.removesuffix("View"): list(cls.__annotations__) for cls in _CLASSES}


# --- the cache -----------------------------------------------------------------------------------


class Loaded:
    """A project's plan: `plan` for the runner, `json` exactly as `riso plan --json` prints it."""

    __slots__ = ("cached", "json", "plan")

    def __init__(self, plan: Plan, json: str, cached: bool) -> None:
        self.plan = plan
        self.json = json
        self.cached = cached


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _lookup_dirs(path_variable: str) -> list[str]:
    found = [d for d in path_variable.split(os.pathsep) if d]
    for base in LOOKUP_DIRS[:1]:  # Debian's versioned Postgres folders: <base>/<version>/bin
        with contextlib.suppress(OSError):
            found += sorted(str(Path(base, v, "bin")) for v in os.listdir(base))
    return [*found, *LOOKUP_DIRS]


def _sources() -> dict[str, int | None]:
    """riso's own modules (the plan builders among them), so an edited or upgraded riso recomputes."""
    stamps: dict[str, int | None] = {}
    for folder in (_RISO, _RISO / "services", _RISO / "runner"):
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    stamps[str(Path(folder.name, entry.name))] = entry.stat().st_mtime_ns
    return stamps


def inputs(root: Path) -> dict[str, Any]:
    """Everything the plan of `root` is computed from, as JSON-comparable values."""
    env_plan = os.environ.get("RISO_PLAN") or ""
    path_variable = os.environ.get("PATH", "")
    return {
        "root": str(root),
        "manifest": _read_text(root / MANIFEST),
        "RISO_PLAN": env_plan,
        "RISO_PLAN file": _read_text(Path(env_plan)) if env_plan else None,
        "PATH": path_variable,
        "lookup dirs": {d: _mtime(d) for d in _lookup_dirs(path_variable)},
        "riso": str(_RISO),
        "sources": _sources(),
    }


def _binaries_present(plan: PlanView) -> bool:
    return all(path is None or os.path.exists(path) for svc in plan.services for path in svc.binaries.values())


def _from_cache(root: Path, wanted: dict[str, Any]) -> Loaded | None:
    text = _read_text(root / CACHE)
    if text is None:
        return None
    try:
        record = json.loads(text)
        if record.get("format") != FORMAT or record.get("inputs") != wanted:
            return None
        plan_json = record["plan"]
        the_plan = view(json.loads(plan_json))
    except (ValueError, TypeError, KeyError, AttributeError):  # ValueError: JSON, KeyError: fields
        return None  # not a cache this riso wrote: computed anew
    if not _binaries_present(the_plan):
        return None
    return Loaded(plan=the_plan, json=plan_json, cached=True)  # type: ignore[arg-type]  # same fields as Plan


def _store(root: Path, wanted: dict[str, Any], plan_json: str) -> None:
    """Kept only when `.riso/run` exists (the project uses the runner); a failure to write is no error."""
    target = root / CACHE
    if not target.parent.is_dir():
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"format": FORMAT, "inputs": wanted, "plan": plan_json}), encoding="utf-8")
        os.replace(tmp, target)
    except (OSError, UnicodeEncodeError):
        with contextlib.suppress(OSError):
            tmp.unlink()


def _compute(root: Path) -> Plan:
    from riso import config as config_mod  # pydantic: only when the cache cannot answer
    from riso import plan as plan_mod

    env_plan = os.environ.get("RISO_PLAN")
    if env_plan:
        return plan_mod.load(Path(env_plan))
    return plan_mod.build(config_mod.load(root))


def load(root: Path) -> Loaded:
    """The plan of the project at `root`: RISO_PLAN (from `nix develop`) when set, else from [tool.riso]."""
    wanted = inputs(root)
    hit = _from_cache(root, wanted)
    if hit is not None:
        return hit
    from riso import plan as plan_mod

    the_plan = _compute(root)
    plan_json = plan_mod.to_json(the_plan)
    _store(root, wanted, plan_json)
    return Loaded(plan=the_plan, json=plan_json, cached=False)
