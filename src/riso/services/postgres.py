"""PostgreSQL: initdb once, a server on loopback and a Unix socket in `.riso/run`."""

from __future__ import annotations

from pathlib import Path

from riso.config import PostgresConfig
from riso.plan_model import CreateDatabase, Project, Readiness, Service, Sql
from riso.runner import binaries

TOOLS = ("postgres", "initdb", "pg_ctl", "psql")


def _package(version: str | None) -> str:
    return f"postgresql_{version}" if version else "postgresql"


def _find_tools(version: str | None) -> dict[str, str | None]:
    """All tools from one folder, so initdb and postgres always share a version."""
    pinned = binaries.postgres_dirs(version)
    server = binaries.find("postgres", pinned) if version else None
    server = server or binaries.find("postgres") or binaries.find("postgres", pinned)
    if server is None:
        return {tool: None for tool in TOOLS}
    folder = Path(server).resolve().parent
    return {tool: binaries.find(tool, [folder]) for tool in TOOLS}


def build(config: PostgresConfig, project: Project) -> Service:
    databases = config.databases or ["app"]
    options = [arg for key, value in sorted(config.settings.items()) for arg in ("-c", f"{key}={value}")]
    hooks: list[CreateDatabase | Sql] = [CreateDatabase(name=db) for db in databases]
    for db in databases:
        hooks += [Sql(database=db, sql=f'CREATE EXTENSION IF NOT EXISTS "{ext}"') for ext in config.extensions]
        hooks += [Sql(database=db, sql=sql) for sql in config.initial_sql]
    url = "postgresql://postgres@{host}:{port}/" + databases[0]
    return Service(
        name="postgres",
        package=_package(config.version),
        version=config.version,
        binaries=_find_tools(config.version),
        port=config.port,
        data_dir="{state}/postgres",
        socket_dir="{run}",
        init=[
            [
                "{bin:initdb}",
                "--pgdata={data_dir}",
                "--username=postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ]
        ],
        start=[
            "{bin:postgres}",
            "-D",
            "{data_dir}",
            "-p",
            "{port}",
            "-k",
            "{socket_dir}",
            "-c",
            "listen_addresses={host}",
            *options,
        ],
        readiness=Readiness(type="postgres", timeout=60),
        stop_signal="SIGINT",
        stop_timeout=30,
        env={
            "DATABASE_URL": url,
            "PGHOST": "{host}",
            "PGPORT": "{port}",
            "PGUSER": "postgres",
            "PGDATABASE": databases[0],
        },
        post_start=list(hooks),
        needs_unprivileged_user=True,
        settings=config.settings,
    )
