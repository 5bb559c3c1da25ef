"""Container files of a project: devcontainer, Compose, Dockerfile and CI, kept in sync with its manifest.

The blueprint owns their content; this module re-renders only those paths for the project's current
`[tool.riso]` (features, Python version, devcontainer flavour) and copies them into the project. Every
other file is left alone. `expected_services` states what the rendered files must agree on with the plan
(service names, container ports, environment), which the tests check for every feature combination.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import yaml

from riso import blueprint_store, config, coordinates
from riso.errors import RisoError
from riso.generate import ANSWERS_FILE, copier_errors, read_answers
from riso.plan_model import Plan

FLAVOURS: tuple[str, ...] = ("compose", "nix")

# The blueprint paths this module renders (top-level names in the project).
CONTAINER_PATHS: tuple[str, ...] = (".devcontainer", ".github", "Dockerfile", ".dockerignore", "docker-compose.yml")

# Everything outside CONTAINER_PATHS is excluded. Copier matches each path on its own (gitignore syntax, the
# last matching pattern wins), so folders' contents need their own `/**` patterns.
_ONLY_CONTAINER_PATHS: tuple[str, ...] = (
    "/*",
    "/*/**",
    *(pattern for name in CONTAINER_PATHS for pattern in (f"!/{name}", f"!/{name}/**")),
)

# Answers taken from the project's Copier answers when present; the manifest decides the rest.
_KEPT_ANSWERS: tuple[str, ...] = ("project_name", "package_name", "description", "package_manager")


@dataclass(frozen=True)
class ContainerService:
    """One riso service as the container files run it: its own container on its standard port."""

    name: str
    image: str
    port: int
    label: str
    env: dict[str, str]


# Inside Compose each service has its own network namespace, so every one listens on its standard
# port; `[tool.riso.services.*].port` applies to `riso up` on the host only.
# Images pinned by digest (docs/images.md says where each digest comes from); the same pins are in
# the blueprint's docker-compose.yml and CI workflow.
_IMAGES: dict[str, tuple[str, int, str]] = {
    "postgres": (
        "postgres:16@sha256:11a9d238fbb48bab14599c57e41123254452b1a2d93c6c8595bce96f346bd082",
        5432,
        "Postgres",
    ),
    "redis": ("redis:7@sha256:c6eabf748fc7a61dbb5a705c78bcf3d6377b1127a97d0ce965c11c44ba46896f", 6379, "Redis"),
    "prometheus": (
        "prom/prometheus:v3.5.0@sha256:63805ebb8d2b3920190daf1cb14a60871b16fd38bed42b857a3182bc621f4996",
        9090,
        "Prometheus",
    ),
    "grafana": (
        "grafana/grafana:12.2.0@sha256:74144189b38447facf737dfd0f3906e42e0776212bf575dc3334c3609183adf7",
        3000,
        "Grafana",
    ),
}

APP_PORT = 8000


def _expand(template: str, host: str, port: int) -> str:
    return template.replace("{host}", host).replace("{port}", str(port))


def expected_services(plan: Plan) -> list[ContainerService]:
    """The plan's services as the container files must run them: Compose host name = service name."""
    services = []
    for svc in plan.services:
        image, port, label = _IMAGES[svc.name]
        env = {key: _expand(value, svc.name, port) for key, value in svc.env.items()}
        services.append(ContainerService(svc.name, image, port, label, env))
    return services


def expected_env(plan: Plan) -> dict[str, str]:
    """Every variable the plan exports, with the values a container on the Compose network needs."""
    return {key: value for svc in expected_services(plan) for key, value in svc.env.items()}


# --- rendering --------------------------------------------------------------------------------


def _container_blueprint(source: Path, dest: Path) -> Path:
    """A copy of the blueprint holding only its Copier config and the container paths.

    Copier renders every path name of a template, so leaving the rest out makes a render several times
    faster; the container templates include only the features' parts (`features/`) from elsewhere.
    """
    settings = yaml.safe_load((source / "copier.yml").read_text(encoding="utf-8")) or {}
    suffix = str(settings.get("_templates_suffix", ".jinja"))
    tree = source / str(settings.get("_subdirectory", ""))
    target = dest / str(settings.get("_subdirectory", ""))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "copier.yml", dest / "copier.yml")
    if (source / "features").is_dir():
        shutil.copytree(source / "features", dest / "features")
    for entry in tree.iterdir():
        if entry.name.removesuffix(suffix) not in CONTAINER_PATHS:
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name)
        else:
            shutil.copy2(entry, target / entry.name)
    return dest


def render(data: Mapping[str, Any], dest: Path, blueprint: Path | None = None) -> list[str]:
    """Render only the container files of the blueprint into `dest`; return their relative paths."""
    from copier import run_copy  # imported here: `riso up` and friends must not pay for Copier

    source = blueprint or blueprint_store.installed_blueprint()
    with (
        tempfile.TemporaryDirectory(prefix="riso-blueprint-") as scratch,
        copier_errors("rendering the container files"),
    ):
        run_copy(
            str(_container_blueprint(source, Path(scratch))),
            dest,
            data={**coordinates.copier_data(), **data},
            vcs_ref=None,
            exclude=_ONLY_CONTAINER_PATHS,
            defaults=True,
            overwrite=True,
            quiet=True,
            unsafe=True,
            skip_tasks=True,
        )
    rendered = (p.relative_to(dest) for p in dest.rglob("*") if p.is_file())
    return sorted(rel.as_posix() for rel in rendered if rel.parts[0] in CONTAINER_PATHS)


def answers_for(root: Path, settings: config.RisoConfig, flavour: str) -> dict[str, Any]:
    """The blueprint answers for the project at `root`: its Copier answers, with the manifest winning."""
    data: dict[str, Any] = {}
    if (root / ANSWERS_FILE).is_file():
        recorded = read_answers(root)
        data = {key: recorded[key] for key in _KEPT_ANSWERS if recorded.get(key) is not None}
    data.setdefault("project_name", settings.name)
    data["features"] = list(settings.features)
    data["python_version"] = settings.python
    data["devcontainer_flavour"] = flavour
    return data


# --- sync -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    root: Path
    flavour: str
    changed: list[str] = field(default_factory=list)  # written (or, with check, that would be)
    created: list[str] = field(default_factory=list)  # the part of `changed` that did not exist
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # generated for another flavour, now stale
    manifest_changed: bool = False

    @property
    def in_sync(self) -> bool:
        return not (self.changed or self.removed or self.manifest_changed)


def check_flavour(flavour: str) -> str:
    if flavour not in FLAVOURS:
        raise RisoError(f"unknown devcontainer flavour {flavour!r}", f"choose one of: {', '.join(FLAVOURS)}")
    return flavour


def sync(root: Path, flavour: str | None = None, *, check: bool = False) -> SyncResult:
    """Rewrite the container files of the project at `root` from its manifest.

    With `flavour`, `[tool.riso.devcontainer] flavour` (and the Copier answers) switch to it first.
    With `check`, nothing is written: the result says what would change.
    """
    settings = config.load(root)
    chosen = check_flavour(flavour) if flavour else settings.devcontainer.flavour
    data = answers_for(root, settings, chosen)
    with tempfile.TemporaryDirectory(prefix="riso-containers-") as tmp:
        renders = {name: Path(tmp, name) for name in FLAVOURS}
        files = {name: render({**data, "devcontainer_flavour": name}, path) for name, path in renders.items()}
        current = renders[chosen]
        changed = [rel for rel in files[chosen] if _differs(current / rel, root / rel)]
        created = [rel for rel in changed if not (root / rel).exists()]
        unchanged = [rel for rel in files[chosen] if rel not in changed]
        stale = {rel for name in FLAVOURS for rel in files[name]} - set(files[chosen])
        removed = sorted(rel for rel in stale if (root / rel).is_file())
        manifest_changed = chosen != settings.devcontainer.flavour
        if not check:
            if manifest_changed:
                _set_manifest_flavour(root, chosen)
                _set_answers_flavour(root, chosen)
            for rel in changed:
                _copy(current / rel, root / rel)
            for rel in removed:
                (root / rel).unlink()
    return SyncResult(root, chosen, changed, created, unchanged, removed, manifest_changed)


def _differs(new: Path, old: Path) -> bool:
    if not old.is_file():
        return True
    return new.read_bytes() != old.read_bytes() or (new.stat().st_mode & 0o111) != (old.stat().st_mode & 0o111)


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(src.read_bytes())
    dst.chmod(src.stat().st_mode & 0o777)


def _set_manifest_flavour(root: Path, flavour: str) -> None:
    """`[tool.riso.devcontainer] flavour = ...`, keeping the rest of pyproject.toml as the user wrote it."""
    path = root / config.MANIFEST
    document = tomlkit.parse(path.read_text(encoding="utf-8"))
    riso = document["tool"]["riso"]
    table = riso.get("devcontainer")
    if table is None:
        table = tomlkit.table()
        riso["devcontainer"] = table
    table["flavour"] = flavour
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


_ANSWER_LINE = re.compile(r"^devcontainer_flavour:.*$", re.MULTILINE)


def _set_answers_flavour(root: Path, flavour: str) -> None:
    """Copier's record follows, so `riso add` / `riso update` render the same flavour."""
    path = root / ANSWERS_FILE
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    if _ANSWER_LINE.search(text):
        path.write_text(_ANSWER_LINE.sub(f"devcontainer_flavour: {flavour}", text, count=1), encoding="utf-8")
