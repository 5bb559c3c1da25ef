"""Prometheus: scrapes itself and the app's /metrics, evaluates the project's alert rules; config
written into its data dir."""

from __future__ import annotations

from riso.config import PrometheusConfig
from riso.plan_model import File, Project, Readiness, Service
from riso.runner import binaries

# The project's alert rules (the monitoring feature writes prometheus/alerts.rules.yml with the
# api feature); a glob, so a project without them still starts.
RULE_FILES = "{root}/prometheus/*.rules.yml"


def app_target(config: PrometheusConfig, app_listens: bool) -> str:
    """Where Prometheus scrapes the app: the port of the `app` process when riso runs one (its
    `port` in [tool.riso.processes.app], allocated or fixed), else `app_port`."""
    return "{host}:{port:app}" if app_listens else f"{{host}}:{config.app_port}"


def _config(config: PrometheusConfig, project: Project, app_listens: bool) -> str:
    lines = [
        "global:",
        f"  scrape_interval: {config.scrape_interval}",
        f"  evaluation_interval: {config.scrape_interval}",
    ]
    if "api" in project.features:
        lines += ["rule_files:", f"  - '{RULE_FILES}'"]
    lines += [
        "scrape_configs:",
        "  - job_name: prometheus",
        "    static_configs:",
        "      - targets: ['{host}:{port}']",
    ]
    if "api" in project.features:
        lines += [
            f"  - job_name: {project.name}",
            "    metrics_path: /metrics",
            "    static_configs:",
            f"      - targets: ['{app_target(config, app_listens)}']",
        ]
    return "\n".join(lines) + "\n"


def build(config: PrometheusConfig, project: Project, app_listens: bool = False) -> Service:
    """`app_listens`: the plan runs an `app` process with a port (see `app_target`)."""
    options = [f"--{key}={value}" for key, value in sorted(config.settings.items())]
    return Service(
        name="prometheus",
        package="prometheus",
        binaries={"prometheus": binaries.find("prometheus")},
        port=config.port,
        data_dir="{state}/prometheus",
        files=[File(path="{data_dir}/prometheus.yml", content=_config(config, project, app_listens))],
        start=[
            "{bin:prometheus}",
            "--config.file={data_dir}/prometheus.yml",
            "--storage.tsdb.path={data_dir}/data",
            "--web.listen-address={host}:{port}",
            *options,
        ],
        readiness=Readiness(type="http", path="/-/ready", timeout=60),
        stop_signal="SIGTERM",
        env={"PROMETHEUS_URL": "http://{host}:{port}"},
        settings={"scrape_interval": config.scrape_interval, "app_port": config.app_port, **config.settings},
    )
