"""Prometheus: scrapes itself and the app's /metrics, evaluates the project's alert rules; config
written into its data dir."""

from __future__ import annotations

from riso.config import PrometheusConfig
from riso.plan_model import File, Project, Readiness, Service
from riso.runner import binaries

# The project's alert rules (the monitoring feature writes prometheus/alerts.rules.yml with the
# api feature); a glob, so a project without them still starts.
RULE_FILES = "{root}/prometheus/*.rules.yml"


def _config(config: PrometheusConfig, project: Project) -> str:
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
            f"      - targets: ['{{host}}:{config.app_port}']",
        ]
    return "\n".join(lines) + "\n"


def build(config: PrometheusConfig, project: Project) -> Service:
    options = [f"--{key}={value}" for key, value in sorted(config.settings.items())]
    return Service(
        name="prometheus",
        package="prometheus",
        binaries={"prometheus": binaries.find("prometheus")},
        port=config.port,
        data_dir="{state}/prometheus",
        files=[File(path="{data_dir}/prometheus.yml", content=_config(config, project))],
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
