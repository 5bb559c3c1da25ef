"""Ephemeral services from local binaries: riso's own Runner, in a throwaway project folder.

The service comes from the same plan `riso up` uses (RISO_PLAN inside `nix develop`, else computed from
the project's `[tool.riso]` and PATH), changed only where a test server differs from a dev server: an
allocated port, no post-start hooks, and no durability for Postgres.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from riso import config as riso_config
from riso import plan as riso_plan
from riso.errors import RisoError
from riso.plan_model import Plan, Project, Service

FEATURE_OF = {"postgres": "database", "redis": "cache"}
ENV_OF = {"postgres": "DATABASE_URL", "redis": "REDIS_URL"}
# Durability is pointless for a test server and costs most of the time of CREATE DATABASE.
FAST_SETTINGS = {"postgres": ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]}
PLAN_FILE = "plan.json"
SHM = "/dev/shm"
SHM_NEEDED = 1 << 30  # a cluster, WAL segments and the clones in flight, with room to spare


@dataclass
class Local:
    url: str
    root: Path
    data_in_ram: bool = False

    def stop(self) -> None:
        stop_root(self.root)


def project_config(rootdir: Path) -> riso_config.RisoConfig:
    """The project's `[tool.riso]` when it has one (versions, settings), else the defaults."""
    try:
        return riso_config.load(riso_config.find_project_root(rootdir))
    except RisoError:
        return riso_config.RisoConfig()


def plan_service(name: str, rootdir: Path) -> Service:
    """The service as the project's plan describes it."""
    plan_path = os.environ.get("RISO_PLAN")
    if plan_path:
        try:
            return riso_plan.load(Path(plan_path)).service(name).model_copy(deep=True)
        except KeyError:
            pass
    cfg = project_config(rootdir).model_copy(deep=True)
    cfg.features = [FEATURE_OF[name]]
    cfg.services.get(name).enable = True
    return riso_plan.build(cfg).service(name)


def missing_binaries(service: Service) -> list[str]:
    return sorted(tool for tool, path in service.binaries.items() if not path or not Path(path).is_file())


def scratch_dir() -> str:
    """Where throwaway servers keep their data: RAM (/dev/shm) when it has room, else the temp folder.

    Cloning a database copies ~8 MB of files; in RAM that is a memory copy, on disk it competes with every
    other writer on the machine. RISO_TEST_DIR overrides the choice. Paths stay short (Unix sockets).
    """
    chosen = os.environ.get("RISO_TEST_DIR")
    if chosen:
        return chosen
    try:
        shm = os.statvfs(SHM)
        if os.access(SHM, os.W_OK) and shm.f_bavail * shm.f_frsize >= SHM_NEEDED:
            return SHM
    except OSError:
        pass
    return "/tmp" if Path("/tmp").is_dir() else tempfile.gettempdir()


def on_tmpfs(path: Path) -> bool:
    """Whether `path` lives on a RAM-backed file system (by the longest matching mount in /proc/mounts)."""
    try:
        mounts = Path("/proc/mounts").read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    resolved, best, fstype = path.resolve(), -1, ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = Path(fields[1].replace("\\040", " "))
        if (resolved == point or point in resolved.parents) and len(point.parts) > best:
            best, fstype = len(point.parts), fields[2]
    return fstype in ("tmpfs", "ramfs")


def for_tests(service: Service, fast: bool = True) -> Service:
    """A dev service turned into a test one (`fast=False` keeps durability, for comparisons)."""
    service = service.model_copy(deep=True)
    service.port = 0
    service.post_start = []
    if fast:
        service.start = [*service.start, *FAST_SETTINGS.get(service.name, [])]
    return service


def start(service: Service, fast: bool = True, where: str | None = None) -> Local:
    """Start `service` in a fresh folder; the caller must call `stop()` (a watchdog does it if we die)."""
    # World-traversable because as root the runner drops Postgres to an unprivileged user, who must
    # reach its data and socket folders.
    root = Path(tempfile.mkdtemp(prefix=f"riso-{service.name[:2]}-", dir=where or scratch_dir()))
    root.chmod(0o755)
    plan = Plan(
        project=Project(name="pytest", features=[FEATURE_OF[service.name]]), services=[for_tests(service, fast)]
    )
    (root / PLAN_FILE).write_text(riso_plan.to_json(plan), encoding="utf-8")
    from riso.runner import Runner

    runner = Runner(plan, root)
    _watch(root)
    try:
        runner.up()
        url = runner.env()[ENV_OF[service.name]]
    except BaseException:
        stop_root(root)
        raise
    return Local(url, root, on_tmpfs(root))


def stop_root(root: Path) -> None:
    """Stop every service of a throwaway folder and delete it (idempotent)."""
    if not root.exists():
        return
    try:
        from riso.runner import Runner

        Runner(riso_plan.load(root / PLAN_FILE), root).down(volumes=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _watch(root: Path) -> None:
    """A detached process that stops the services if this pytest process dies without cleaning up (kill -9)."""
    subprocess.Popen(
        [sys.executable, "-m", "riso.testing.watchdog", str(os.getpid()), str(root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
