"""`[tool.riso]` in a project's pyproject.toml: the schema, loading, and errors that name the key."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from riso.errors import ConfigError
from riso.features import validate_features

MANIFEST = "pyproject.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceConfig(_Strict):
    """Settings every service accepts."""

    enable: bool | None = Field(None, description="Override the feature default (true/false).")
    port: int = Field(0, ge=0, le=65535, description="Fixed port, or 0 to allocate one per project.")
    settings: dict[str, Any] = Field(default_factory=dict, description="Extra server configuration.")


class InitialDatabase(_Strict):
    """A database created after start (services-flake's `initialDatabases` entry)."""

    name: str = Field(min_length=1)
    schemas: list[str] = Field(default_factory=list, description="Schemas created in it.")


class InitialScript(_Strict):
    """SQL run in the `postgres` database, before and after the databases are created."""

    before: str | None = None
    after: str | None = None


DEFAULT_INITDB_ARGS = ["--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"]


class PostgresInstanceConfig(ServiceConfig):
    """One PostgreSQL server; `[tool.riso.services.postgres]` is one, each of its `instances` another."""

    version: str | None = Field(None, description="Major version (postgresql_<version>); null = the default.")
    initial_databases: list[InitialDatabase] = Field(
        default_factory=lambda: [InitialDatabase(name="app")],
        description="Created after start; the first is the one DATABASE_URL names.",
    )
    initial_script: InitialScript = Field(default_factory=InitialScript)
    extensions: list[str] = Field(default_factory=list, description="CREATE EXTENSION in every database.")
    listen_addresses: str = "{host}"
    socket_dir: str = "{run}"
    data_dir: str | None = Field(None, description="Data directory; null = {state}/<service name>.")
    hba_conf: str | None = Field(None, description="pg_hba.conf content; null = initdb's.")
    initdb_args: list[str] = Field(default_factory=lambda: list(DEFAULT_INITDB_ARGS))


class PostgresConfig(PostgresInstanceConfig):
    instances: dict[str, PostgresInstanceConfig] = Field(
        default_factory=dict,
        description="More servers, each its own service `postgres-<name>` exporting DATABASE_URL_<NAME>.",
    )

    @field_validator("instances")
    @classmethod
    def _instance_names(cls, value: dict[str, PostgresInstanceConfig]) -> dict[str, PostgresInstanceConfig]:
        bad = [name for name in value if not re.fullmatch(r"[a-z][a-z0-9-]*", name)]
        if bad:
            raise ValueError(f"instance name {bad[0]!r}: use lowercase letters, digits and '-'")
        return value


class RedisConfig(ServiceConfig):
    pass


class PrometheusConfig(ServiceConfig):
    scrape_interval: str = "5s"
    app_port: int = Field(
        8000,
        ge=1,
        le=65535,
        description="Where the app serves /metrics when riso does not run it; the default port of the app process.",
    )


class GrafanaConfig(ServiceConfig):
    admin_password: str = "admin"
    settings: dict[str, dict[str, str | int | bool]] = Field(
        default_factory=dict, description="grafana.ini: section -> key -> value, over riso's."
    )


class ServicesConfig(_Strict):
    postgres: PostgresConfig = Field(default_factory=PostgresConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    prometheus: PrometheusConfig = Field(default_factory=PrometheusConfig)
    grafana: GrafanaConfig = Field(default_factory=GrafanaConfig)

    def get(self, name: str) -> ServiceConfig:
        value: ServiceConfig = getattr(self, name)
        return value


PROCESS_NAME = r"[a-z][a-z0-9_-]*"


def split_command(value: str | list[str]) -> list[str]:
    """A command as an argv: a list as it is, a string split like a POSIX shell (shlex, no comments)."""
    if isinstance(value, list):
        return value
    try:
        argv = shlex.split(value, comments=False, posix=True)
    except ValueError as problem:  # "No closing quotation", "No escaped character"
        raise ValueError(f"cannot split {value!r}: {str(problem).lower()}") from None
    return argv


class ProcessReadinessConfig(_Strict):
    """`readiness = { type = "http", path = "/healthz" }`, `{ type = "command", command = "..." }`
    or `{ type = "none" }` (started once it keeps running for a moment)."""

    type: Literal["http", "command", "none"]
    path: str | None = Field(None, description="http: the path probed (default /).")
    command: str | list[str] | None = Field(None, description="command: run until it exits 0.")
    timeout: float = Field(30.0, gt=0, description="Seconds `riso up` waits for it.")

    @model_validator(mode="after")
    def _complete(self) -> ProcessReadinessConfig:
        if self.type == "command" and (self.command is None or not split_command(self.command)):
            raise ValueError('readiness of type "command" needs command = "..."')
        if self.type != "command" and self.command is not None:
            raise ValueError(f'command is for readiness of type "command", not {self.type!r}')
        if self.type != "http" and self.path is not None:
            raise ValueError(f'path is for readiness of type "http", not {self.type!r}')
        if self.path is not None and not self.path.startswith("/"):
            raise ValueError(f"readiness path must start with '/' (got {self.path!r})")
        return self


class ProcessConfig(_Strict):
    """`[tool.riso.processes.<name>]`: one of the project's own programs. For a default process
    (`app`), each key given replaces the default's; `enable = false` removes it."""

    enable: bool | None = Field(None, description="false removes the process (a default one too).")
    command: str | list[str] | None = Field(None, description="argv, or a string split like a shell.")
    env: dict[str, str] | None = Field(None, description="Its environment (templates), over the services' exports.")
    exports: dict[str, str] | None = Field(None, description="Variables `riso env` prints (templates).")
    depends_on: list[str] | None = Field(None, description="Services or processes started (and ready) first.")
    readiness: ProcessReadinessConfig | None = None
    restart: Literal["no", "on-failure", "always"] | None = None
    max_restarts: int | None = Field(None, ge=0, description="Restarts in a row before riso gives up.")
    backoff: float | None = Field(None, ge=0, description="Seconds before the first restart; doubled each time.")
    port: int | None = Field(None, ge=0, le=65535, description="Where it listens: fixed, or 0 to allocate.")
    stop_signal: Literal["SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP"] | None = None
    stop_timeout: float | None = Field(None, gt=0)
    working_dir: str | None = None

    @field_validator("command")
    @classmethod
    def _argv(cls, value: str | list[str] | None) -> str | list[str] | None:
        if value is not None and not split_command(value):
            raise ValueError("command is empty")
        return value


class DevcontainerConfig(_Strict):
    flavour: Literal["nix", "compose"] = "compose"


class RisoConfig(_Strict):
    """The whole `[tool.riso]` table."""

    name: str | None = Field(None, description="Project name; defaults to [project].name.")
    features: list[str] = Field(default_factory=list)
    python: str = "3.11"
    package_manager: Literal["poetry", "uv", "pip"] = "uv"
    services: ServicesConfig = Field(default_factory=ServicesConfig)
    processes: dict[str, ProcessConfig] = Field(
        default_factory=dict, description="The project's own programs, beside the services."
    )
    devcontainer: DevcontainerConfig = Field(default_factory=DevcontainerConfig)

    @field_validator("features")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        return validate_features(value)

    @field_validator("processes")
    @classmethod
    def _process_names(cls, value: dict[str, ProcessConfig]) -> dict[str, ProcessConfig]:
        bad = [name for name in value if not re.fullmatch(PROCESS_NAME, name)]
        if bad:
            raise ValueError(f"process name {bad[0]!r}: use lowercase letters, digits, '-' and '_'")
        return value


def find_project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` holding a pyproject.toml."""
    from riso.plan_cache import project_root  # the pydantic-free lookup the quick commands use

    return project_root(start)


def _format_error(err: ValidationError) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(table)"
    message = first["msg"].removeprefix("Value error, ")
    given = first.get("input")
    shown = f" (got {given!r})" if isinstance(given, (str, int, float, bool)) else ""
    return f"[tool.riso] {key}: {message}{shown}"


def parse(data: dict[str, Any], source: str = MANIFEST) -> RisoConfig:
    """Validate a parsed pyproject.toml; the project name falls back to [project].name."""
    table = data.get("tool", {}).get("riso")
    if table is None:
        raise ConfigError(f"{source} has no [tool.riso] table", 'add one, e.g. features = ["api"]')
    try:
        config = RisoConfig.model_validate(table)
    except ValidationError as err:
        raise ConfigError(f"{source}: {_format_error(err)}") from None
    if config.name is None:
        config.name = str(data.get("project", {}).get("name") or "app")
    return config


def load(root: Path) -> RisoConfig:
    path = root / MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no {MANIFEST} in {root}", "create one with `riso new`") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return parse(data, str(path))
