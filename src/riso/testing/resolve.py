"""Where the tests' Postgres and Redis come from, tried in order, each step recording why it was (not) taken:

1. a URL from the environment (`DATABASE_URL` / `REDIS_URL`: `riso env`, CI services);
2. an ephemeral server from local binaries, run by riso's Runner in a temp folder;
3. a container through testcontainers, when a Docker engine answers;
4. an error naming what to install.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from riso.errors import RisoError
from riso.testing import containers, local, pgadmin, redis_db

ENVIRONMENT = "environment"
LOCAL = "local binaries"
TESTCONTAINERS = "testcontainers"


@dataclass
class Resolved:
    service: str
    url: str
    source: str
    reason: str
    stop: Callable[[], None] | None = None
    data_in_ram: bool = False  # known only for servers started here


class NoServer(RisoError):
    """No step could provide the service."""


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    env_var: str
    install: str
    admin_url: Callable[[str], str]
    start_container: Callable[[], containers.Container]


POSTGRES = Kind(
    name="postgres",
    label="Postgres",
    env_var="DATABASE_URL",
    install="install the Postgres server binaries (Debian: apt-get install postgresql; Nix: nix develop)",
    admin_url=lambda url: pgadmin.with_database(url, "postgres"),
    start_container=lambda: containers.start_postgres(pgadmin.accepts_queries),
)
REDIS = Kind(
    name="redis",
    label="Redis",
    env_var="REDIS_URL",
    install="install redis-server (Debian: apt-get install redis-server; Nix: nix develop)",
    admin_url=lambda url: url,
    start_container=lambda: containers.start_redis(redis_db.ping),
)
KINDS = {kind.name: kind for kind in (POSTGRES, REDIS)}


def from_environment(kind: Kind) -> Resolved | str:
    url = os.environ.get(kind.env_var, "").strip()
    if not url:
        return f"{kind.env_var} is not set"
    return Resolved(kind.name, kind.admin_url(url), ENVIRONMENT, f"{kind.env_var} is set")


def from_local(kind: Kind, rootdir: Path) -> Resolved | str:
    service = local.plan_service(kind.name, rootdir)
    missing = local.missing_binaries(service)
    if missing:
        where = "in RISO_PLAN" if os.environ.get("RISO_PLAN") else "on PATH or in /usr/lib/postgresql"
        return f"no {kind.label} server binaries ({', '.join(missing)} not found {where})"
    started = local.start(service)
    folders = sorted({str(Path(p).parent) for p in service.binaries.values() if p})
    reason = f"server binaries found in {', '.join(folders)}"
    if started.data_in_ram:
        reason += f"; data in RAM under {started.root.parent}"
    return Resolved(kind.name, kind.admin_url(started.url), LOCAL, reason, started.stop, started.data_in_ram)


def from_containers(kind: Kind) -> Resolved | str:
    if not containers.engine_answers():
        return f"no Docker engine answered at {containers.docker_host()}"
    started = kind.start_container()
    reason = f"a Docker engine answers at {containers.docker_host()}"
    return Resolved(kind.name, kind.admin_url(started.url), TESTCONTAINERS, reason, started.stop)


def resolve(kind: Kind, rootdir: Path) -> Resolved:
    """The first step that provides the service; NoServer with every step's reason when none does."""
    skipped: list[str] = []
    for step in (from_environment, lambda k: from_local(k, rootdir), from_containers):
        found = step(kind)
        if isinstance(found, Resolved):
            found.reason = "; ".join([*skipped, found.reason])
            return found
        skipped.append(found)
    raise NoServer(
        f"no {kind.label} server for the tests: {'; '.join(skipped)}",
        f"{kind.install}, or set {kind.env_var} to a running server, "
        f"or start a Docker engine and {containers.INSTALL_HINT}",
    )
