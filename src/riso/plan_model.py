"""The service plan as typed models; `schema/plan.schema.json` is generated from these.

See docs/plan.md for the meaning of each field and the placeholders the runner expands.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[1] = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class File(_Model):
    path: str
    content: str


class Readiness(_Model):
    type: Literal["postgres", "redis", "http"]
    timeout: float = 30.0
    path: str | None = None


class CreateDatabase(_Model):
    type: Literal["create_database"] = "create_database"
    name: str


class Sql(_Model):
    type: Literal["sql"] = "sql"
    database: str
    sql: str


class Command(_Model):
    type: Literal["command"] = "command"
    argv: list[str]


Hook = CreateDatabase | Sql | Command


class Service(_Model):
    name: str
    package: str
    version: str | None = None
    binaries: dict[str, str | None]
    port: int = Field(0, ge=0, le=65535)
    data_dir: str
    socket_dir: str | None = None
    files: list[File] = Field(default_factory=list)
    init: list[list[str]] = Field(default_factory=list)
    start: list[str]
    readiness: Readiness
    stop_signal: Literal["SIGINT", "SIGTERM", "SIGQUIT"] = "SIGTERM"
    stop_timeout: float = 10.0
    env: dict[str, str] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    post_start: list[Hook] = Field(default_factory=list)
    needs_unprivileged_user: bool = False
    settings: dict[str, Any] = Field(default_factory=dict)


class ProcessReadiness(_Model):
    """When a process is ready: an HTTP GET of `path` on its port answers 2xx, a command exits 0,
    or (`none`) it is still running a moment after it started."""

    type: Literal["http", "command", "none"]
    timeout: float = 30.0
    path: str | None = None
    argv: list[str] | None = None


class Process(_Model):
    """One of the project's own programs (the app, a worker), run under a riso supervisor."""

    name: str
    command: list[str]
    env: dict[str, str] = Field(default_factory=dict)
    exports: dict[str, str] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    readiness: ProcessReadiness
    restart: Literal["no", "on-failure", "always"] = "on-failure"
    max_restarts: int = Field(5, ge=0)
    backoff: float = Field(1.0, ge=0)
    port: int | None = Field(None, ge=0, le=65535)
    stop_signal: Literal["SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP"] = "SIGTERM"
    stop_timeout: float = 10.0
    working_dir: str = "{root}"


class Project(_Model):
    name: str
    features: list[str]


class Plan(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    project: Project
    services: list[Service]
    processes: list[Process] = Field(default_factory=list)

    def service(self, name: str) -> Service:
        for svc in self.services:
            if svc.name == name:
                return svc
        raise KeyError(name)

    def process(self, name: str) -> Process:
        for proc in self.processes:
            if proc.name == name:
                return proc
        raise KeyError(name)
