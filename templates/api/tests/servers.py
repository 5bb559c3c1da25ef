"""Where the test services come from, tried in this order (the features' fixtures use it):

1. the server in DATABASE_URL / REDIS_URL when set (`eval "$(riso env)"`, CI service containers,
   the Nix check): the plugins' `noproc` mode; tests use databases of their own on it;
2. a throwaway server from local binaries (pg_ctl, redis-server), started once for the session;
3. a container (testcontainers) when a Docker engine answers;
4. else the test fails saying what to install or set.
"""

from __future__ import annotations

import os
from importlib import import_module
from types import SimpleNamespace
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import pytest

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
"""The pytest-xdist worker number, so workers sharing a server keep apart."""


def from_environment(variable: str) -> Any:
    """The parts of the URL in `variable` (None when unset), for the plugins' noproc mode."""
    url = os.environ.get(variable, "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    return SimpleNamespace(
        url=url,
        host=parts.hostname or "127.0.0.1",
        port=parts.port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        path=parts.path.lstrip("/"),
    )


def docker_answers() -> bool:
    try:
        docker = import_module("docker")  # installed with testcontainers, by features that use it
        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


def no_server(label: str, variable: str, install: str) -> NoReturn:
    pytest.fail(
        f"no {label} server for the tests: {variable} is not set, no local {install} was found "
        'and no Docker engine answered. Fix: run `riso up -d` and `eval "$(riso env)"`, '
        f"install {install}, or start Docker",
        pytrace=False,
    )
