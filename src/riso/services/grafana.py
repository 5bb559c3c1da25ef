"""Grafana: provisioned with the Prometheus datasource and the project's dashboards folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riso.config import GrafanaConfig
from riso.plan_model import File, Project, Readiness, Service
from riso.runner import binaries

HOMEPATHS = ("/usr/share/grafana", "/usr/local/share/grafana")


def _homepath() -> str | None:
    return next((p for p in HOMEPATHS if Path(p).is_dir()), None)


# grafana.ini as sections; `settings` (section -> key -> value) is merged over them.
BASE_INI: dict[str, dict[str, str | int | bool]] = {
    "server": {"http_addr": "{host}", "http_port": "{port}"},
    "paths": {
        "data": "{data_dir}/data",
        "logs": "{data_dir}/logs",
        "plugins": "{data_dir}/plugins",
        "provisioning": "{data_dir}/provisioning",
    },
    "security": {"admin_user": "admin"},
    "analytics": {"reporting_enabled": False, "check_for_updates": False},
}


def _ini_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _escape_key(key: str) -> str:
    return key.replace("=", "\\=")


def render_ini(sections: dict[str, dict[str, Any]]) -> str:
    """The INI text nixpkgs' `pkgs.formats.ini` (lib.generators.toINI) writes: sorted, `key=value`."""
    parts = []
    for section in sorted(sections):
        name = section.replace("[", "\\[").replace("]", "\\]")
        values = sections[section]
        body = "".join(f"{_escape_key(key)}={_ini_value(values[key])}\n" for key in sorted(values))
        parts.append(f"[{name}]\n{body}")
    return "\n".join(parts)


def ini_sections(config: GrafanaConfig) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {name: dict(values) for name, values in BASE_INI.items()}
    merged["security"]["admin_password"] = config.admin_password
    for section, values in config.settings.items():
        merged.setdefault(section, {}).update(values)
    return merged


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
        binaries={"grafana": binaries.find("grafana"), "homepath": _homepath()},
        port=config.port,
        data_dir="{state}/grafana",
        files=[
            File(path="{data_dir}/grafana.ini", content=render_ini(ini_sections(config))),
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
