"""PostgreSQL: initdb once, a server on loopback and a Unix socket in `.riso/run`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from riso.config import InitialDatabase, PostgresConfig, PostgresInstanceConfig
from riso.plan_model import CreateDatabase, File, Project, Readiness, Service, Sql
from riso.runner import binaries

TOOLS = ("postgres", "initdb", "pg_ctl", "psql")
# outside the data dir (initdb needs an empty one): {state}/<service>-hba.conf


def instance_name(name: str) -> str:
    return f"postgres-{name}"


def _url_variable(service: str) -> str:
    """postgres -> DATABASE_URL; postgres-analytics -> DATABASE_URL_ANALYTICS."""
    suffix = service.removeprefix("postgres").removeprefix("-")
    return "DATABASE_URL" + ("_" + suffix.upper().replace("-", "_") if suffix else "")


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


def _hooks(config: PostgresInstanceConfig, databases: list[str]) -> list[CreateDatabase | Sql]:
    """initial_script.before, the databases with their schemas and extensions, initial_script.after."""
    script = config.initial_script
    hooks: list[CreateDatabase | Sql] = []
    if script.before:
        hooks.append(Sql(database="postgres", sql=script.before))
    hooks += [CreateDatabase(name=db) for db in databases]
    for db in config.initial_databases or [InitialDatabase(name="app")]:
        hooks += [Sql(database=db.name, sql=f'CREATE SCHEMA IF NOT EXISTS "{schema}"') for schema in db.schemas]
        hooks += [Sql(database=db.name, sql=f'CREATE EXTENSION IF NOT EXISTS "{ext}"') for ext in config.extensions]
    if script.after:
        hooks.append(Sql(database="postgres", sql=script.after))
    return hooks


def build(config: PostgresConfig, project: Project) -> Service:
    return build_instance("postgres", config)


def build_instances(config: PostgresConfig) -> list[Service]:
    """The extra servers of `instances` that are enabled, in name order."""
    return [
        build_instance(instance_name(name), config.instances[name])
        for name in sorted(config.instances)
        if config.instances[name].enable is not False
    ]


def build_instance(service: str, config: PostgresInstanceConfig) -> Service:
    databases = [db.name for db in config.initial_databases] or ["app"]
    options = [arg for key, value in sorted(config.settings.items()) for arg in ("-c", f"{key}={value}")]
    files: list[File] = []
    if config.hba_conf is not None:
        hba_path = "{state}/" + service + "-hba.conf"
        files.append(File(path=hba_path, content=config.hba_conf))
        options += ["-c", f"hba_file={hba_path}"]
    # Percent-encoded: `%`, `?`, `#` (and `{`, so no placeholder) in a database name stay part of it.
    url = "postgresql://postgres@{host}:{port}/" + quote(databases[0], safe="")
    env = {_url_variable(service): url}
    if service == "postgres":
        env |= {"PGHOST": "{host}", "PGPORT": "{port}", "PGUSER": "postgres", "PGDATABASE": databases[0]}
    return Service(
        name=service,
        package=_package(config.version),
        version=config.version,
        binaries=_find_tools(config.version),
        port=config.port,
        data_dir=config.data_dir or "{state}/" + service,
        socket_dir=config.socket_dir,
        files=files,
        init=[["{bin:initdb}", "--pgdata={data_dir}", *config.initdb_args]],
        start=[
            "{bin:postgres}",
            "-D",
            "{data_dir}",
            "-p",
            "{port}",
            "-k",
            "{socket_dir}",
            "-c",
            f"listen_addresses={config.listen_addresses}",
            *options,
        ],
        readiness=Readiness(type="postgres", timeout=60),
        stop_signal="SIGINT",
        stop_timeout=30,
        env=env,
        post_start=list(_hooks(config, databases)),
        needs_unprivileged_user=True,
        settings=config.settings,
    )
