"""Grafana: provisioned with the Prometheus datasource and the project's dashboards folder."""

from __future__ import annotations

from pathlib import Path

from riso.config import GrafanaConfig
from riso.plan_model import File, Project, Readiness, Service
from riso.runner import binaries

HOMEPATHS = ("/usr/share/grafana", "/usr/local/share/grafana")


def _homepath() -> str | None:
    return next((p for p in HOMEPATHS if Path(p).is_dir()), None)


INI = """\
[server]
http_addr = {host}
http_port = {port}
[paths]
data = {data_dir}/data
logs = {data_dir}/logs
plugins = {data_dir}/plugins
provisioning = {data_dir}/provisioning
[security]
admin_user = admin
admin_password = ADMIN_PASSWORD
[analytics]
reporting_enabled = false
check_for_updates = false
"""

DATASOURCE = """\
apiVersion: 1
datasources:
  - name: Prometheus
    type: prometheus
    access: proxy
    url: http://{host}:{port:prometheus}
    isDefault: true
"""

DASHBOARDS = """\
apiVersion: 1
providers:
  - name: project
    folder: ''
    type: file
    options:
      path: {root}/grafana/dashboards
"""


def build(config: GrafanaConfig, project: Project) -> Service:
    return Service(
        name="grafana",
        package="grafana",
        version=config.version,
        binaries={"grafana": binaries.find("grafana"), "homepath": _homepath()},
        port=config.port,
        data_dir="{state}/grafana",
        files=[
            File(path="{data_dir}/grafana.ini", content=INI.replace("ADMIN_PASSWORD", config.admin_password)),
            File(path="{data_dir}/provisioning/datasources/riso.yaml", content=DATASOURCE),
            File(path="{data_dir}/provisioning/dashboards/riso.yaml", content=DASHBOARDS),
        ],
        start=[
            "{bin:grafana}",
            "server",
            "--homepath",
            "{bin:homepath}",
            "--config",
            "{data_dir}/grafana.ini",
        ],
        readiness=Readiness(type="http", path="/api/health", timeout=60),
        stop_signal="SIGTERM",
        env={"GRAFANA_URL": "http://{host}:{port}"},
        depends_on=["prometheus"],
        settings=config.settings,
    )
