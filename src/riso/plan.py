"""[tool.riso] -> the service plan (the same JSON shape `modules/plan.nix` produces)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riso.config import ProcessConfig, RisoConfig, split_command
from riso.errors import ConfigError
from riso.features import SERVICE_ORDER, implied_services
from riso.names import package_name
from riso.plan_model import Plan, Process, Project, Service
from riso.services import BUILDERS, postgres, prometheus

# Services that watch the app rather than serve it: the app does not wait for them.
OBSERVERS = ("prometheus", "grafana")
# What a process declared in the manifest has unless it says otherwise (docs/plan.md, PROCESS).
PROCESS_DEFAULTS: dict[str, Any] = {
    "env": {},
    "exports": {},
    "depends_on": [],
    "readiness": {"type": "none", "timeout": 30.0, "path": None, "argv": None},
    "restart": "on-failure",
    "max_restarts": 5,
    "backoff": 1.0,
    "port": None,
    "stop_signal": "SIGTERM",
    "stop_timeout": 10.0,
    "working_dir": "{root}",
}
PORT_PLACEHOLDER = re.compile(r"\{port\}")


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
    built = processes(config, services)
    if any(p.name == "app" and p.port is not None for p in built):  # Prometheus scrapes its port
        listens = prometheus.build(config.services.prometheus, project, app_listens=True)
        services = [listens if s.name == "prometheus" else s for s in services]
    names = {s.name for s in services}
    for svc in services:
        svc.depends_on = [d for d in svc.depends_on if d in names]
    return Plan(project=project, services=services, processes=built)


def default_processes(config: RisoConfig, services: list[Service]) -> dict[str, dict[str, Any]]:
    """The processes the features bring: `app` (uvicorn with reload) when the api feature is on,
    `worker` (the job worker, which runs the periodic jobs too) when the tasks feature is on."""
    found: dict[str, dict[str, Any]] = {}
    package = package_name(config.name or "app")
    served = [s.name for s in services if s.name not in OBSERVERS]
    if "api" in config.features:
        found["app"] = {
            **PROCESS_DEFAULTS,
            "command": [
                "uvicorn",
                f"{package}.main:create_app",
                "--factory",
                "--reload",
                "--reload-dir",
                "{root}/src",
                "--host",
                "{host}",
                "--port",
                "{port}",
            ],
            "exports": {"APP_URL": "http://{host}:{port}"},
            "depends_on": served,
            "readiness": {"type": "http", "timeout": 30.0, "path": "/healthz", "argv": None},
            # 8000 unless [tool.riso.services.prometheus] app_port says; Prometheus scrapes this port
            "port": config.services.prometheus.app_port,
        }
    if "tasks" in config.features:
        # restarted on failure; SIGTERM lets running jobs finish (TASKS_SHUTDOWN_GRACE_SECONDS, 5 s,
        # below the stop timeout), and a job whose worker was killed runs again after a restart
        found["worker"] = {
            **PROCESS_DEFAULTS,
            "command": ["python", "-m", package, "worker"],
            "depends_on": served,
        }
    return found


def _merged(name: str, base: dict[str, Any], given: ProcessConfig) -> dict[str, Any]:
    """The keys the manifest sets for one process over `base`, in the plan's shape. Like the Nix
    options: `env`, `exports` and `readiness` are merged key by key, every other key replaced."""
    fields = given.model_dump(exclude_unset=True, exclude={"enable", "readiness"})
    if given.command is not None:
        fields["command"] = split_command(given.command)
    for table in ("env", "exports"):
        if table in fields:
            fields[table] = {**base[table], **fields[table]}
    ready = dict(base["readiness"])
    if given.readiness is not None:
        set_keys = given.readiness.model_fields_set
        ready.update({k: getattr(given.readiness, k) for k in ("type", "path", "timeout") if k in set_keys})
        if given.readiness.command is not None:
            ready["argv"] = split_command(given.readiness.command)
    # what does not apply to the type is dropped (an http path on a command check)
    ready["path"] = (ready["path"] or "/") if ready["type"] == "http" else None
    ready["argv"] = ready["argv"] if ready["type"] == "command" else None
    if ready["type"] == "command" and not ready["argv"]:
        raise ConfigError(f'[tool.riso.processes.{name}] readiness of type "command" needs command = "..."')
    return {**base, **fields, "readiness": ready}


def processes(config: RisoConfig, services: list[Service]) -> list[Process]:
    """Default processes with the manifest's keys over them, then the manifest's own; by name."""
    chosen = default_processes(config, services)
    for name, given in config.processes.items():
        if given.enable is False:
            chosen.pop(name, None)
            continue
        base = chosen.get(name)
        if base is None:
            if given.command is None:
                raise ConfigError(
                    f"[tool.riso.processes.{name}] has no command",
                    'add command = "..." (a string split like a shell, or a list)',
                )
            base = {**PROCESS_DEFAULTS, "command": []}
        chosen[name] = _merged(name, base, given)
    built = [Process.model_validate({"name": name, **fields}) for name, fields in sorted(chosen.items())]
    _check_processes(built, services)
    return built


def _check_processes(built: list[Process], services: list[Service]) -> None:
    service_names = {s.name for s in services}
    known = service_names | {p.name for p in built}
    for proc in built:
        where = f"[tool.riso.processes.{proc.name}]"
        if proc.name in service_names:
            raise ConfigError(f"{where}: {proc.name!r} is the name of a service", "give the process another name")
        for dep in proc.depends_on:
            if dep == proc.name or dep not in known:
                why = "itself" if dep == proc.name else "not a service or process of this project"
                raise ConfigError(f"{where} depends_on: {dep!r} is {why}", f"known: {', '.join(sorted(known))}")
        templates = [*proc.command, *proc.env.values(), *proc.exports.values(), *(proc.readiness.argv or [])]
        uses_port = any(PORT_PLACEHOLDER.search(t) for t in templates) or proc.readiness.type == "http"
        if proc.port is None and uses_port:
            what = "its readiness is http" if proc.readiness.type == "http" else "it uses {port}"
            raise ConfigError(f"{where} has no port, but {what}", "add port = 0 (riso allocates one) or a fixed port")


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
