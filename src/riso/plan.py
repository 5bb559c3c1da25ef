"""[tool.riso] -> the service plan (the same JSON shape `modules/plan.nix` produces)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from riso.config import RisoConfig
from riso.errors import ConfigError
from riso.features import SERVICE_ORDER, implied_services
from riso.plan_model import Plan, Project
from riso.services import BUILDERS, postgres


def enabled_services(config: RisoConfig) -> list[str]:
    """Feature defaults, then explicit `enable = true/false` per service wins (like mkDefault)."""
    implied = set(implied_services(config.features))
    chosen = []
    for name in SERVICE_ORDER:
        explicit = config.services.get(name).enable
        if explicit if explicit is not None else name in implied:
            chosen.append(name)
    return chosen


def build(config: RisoConfig) -> Plan:
    project = Project(name=config.name or "app", features=list(config.features))
    services = []
    for name in SERVICE_ORDER:
        if name in enabled_services(config):
            services.append(BUILDERS[name](config.services.get(name), project))
        if name == "postgres":  # extra servers, enabled by being declared
            services += postgres.build_instances(config.services.postgres)
    names = {s.name for s in services}
    for svc in services:
        svc.depends_on = [d for d in svc.depends_on if d in names]
    return Plan(project=project, services=services)


def load(path: Path) -> Plan:
    """A plan written by Nix (RISO_PLAN) or by `riso plan --json`."""
    try:
        return Plan.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"plan file {path} does not exist", "unset RISO_PLAN or re-enter `nix develop`") from None
    except (json.JSONDecodeError, ValidationError) as err:
        first = str(err).splitlines()[0]
        raise ConfigError(f"plan file {path} is invalid: {first}") from None


def to_json(plan: Plan) -> str:
    return plan.model_dump_json(indent=2) + "\n"


def json_schema() -> str:
    return json.dumps(Plan.model_json_schema(), indent=2, sort_keys=True) + "\n"
