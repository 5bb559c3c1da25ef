"""Redis: one server on loopback, RDB snapshots in its data dir so data survives down/up."""

from __future__ import annotations

from riso.config import ServiceConfig
from riso.plan_model import Project, Readiness, Service
from riso.runner import binaries


def build(config: ServiceConfig, project: Project) -> Service:
    options = [arg for key, value in sorted(config.settings.items()) for arg in (f"--{key}", str(value))]
    return Service(
        name="redis",
        package="redis",
        binaries={"redis-server": binaries.find("redis-server")},
        port=config.port,
        data_dir="{state}/redis",
        start=[
            "{bin:redis-server}",
            "--port",
            "{port}",
            "--bind",
            "{host}",
            "--dir",
            "{data_dir}",
            "--save",
            "60 1",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            *options,
        ],
        readiness=Readiness(type="redis", timeout=30),
        stop_signal="SIGTERM",
        env={"REDIS_URL": "redis://{host}:{port}/0"},
        settings=config.settings,
    )
