"""One module per service: how its plan entry is built from the manifest.

Each module exposes `build(config, project) -> Service`. The runner never imports these:
it executes the plan, so a plan from Nix runs the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from riso.config import ServiceConfig
from riso.plan_model import Project, Service
from riso.services import grafana, postgres, prometheus, redis

Builder = Callable[[ServiceConfig, Project], Service]

BUILDERS: dict[str, Builder] = {
    "postgres": postgres.build,  # type: ignore[dict-item]
    "redis": redis.build,
    "prometheus": prometheus.build,  # type: ignore[dict-item]
    "grafana": grafana.build,  # type: ignore[dict-item]
}

INSTALL_HINTS: dict[str, str] = {
    "postgres": "apt-get install postgresql, or use `nix develop`",
    "redis": "apt-get install redis-server, or use `nix develop`",
    "prometheus": "apt-get install prometheus, or use `nix develop`",
    "grafana": "install Grafana (https://grafana.com/docs/grafana/latest/setup-grafana/installation/) "
    "or use `nix develop`",
}
