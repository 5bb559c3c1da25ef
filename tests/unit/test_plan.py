"""The Python side of the plan: feature -> service rules, overrides, placeholders, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from riso import features, plan
from riso.config import RisoConfig
from riso.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def names(cfg: RisoConfig) -> list[str]:
    return [s.name for s in plan.build(cfg).services]


@pytest.mark.parametrize("combo", features.valid_combinations(), ids=lambda c: "+".join(c) or "none")
def test_every_combination_implies_its_services(combo: tuple[str, ...]) -> None:
    expected = [s for s in features.SERVICE_ORDER if any(s in features.FEATURES[f].services for f in combo)]
    built = plan.build(RisoConfig(name="demo", features=list(combo)))
    assert [s.name for s in built.services] == expected
    assert built.project.features == sorted(combo)
    for svc in built.services:
        assert set(svc.depends_on) <= {s.name for s in built.services}


def test_128_combinations_80_valid() -> None:
    assert len(features.all_combinations()) == 128
    assert len(features.valid_combinations()) == 80  # auth requires api and database


def test_explicit_enable_overrides_the_feature_default() -> None:
    cfg = RisoConfig.model_validate(
        {"features": ["monitoring"], "services": {"grafana": {"enable": False}, "redis": {"enable": True}}}
    )
    assert names(cfg) == ["redis", "prometheus"]


def test_postgres_entry_carries_databases_settings_and_hooks() -> None:
    cfg = RisoConfig.model_validate(
        {
            "features": ["database"],
            "services": {
                "postgres": {
                    "port": 6543,
                    "initial_databases": [{"name": "shop", "schemas": ["billing"]}, {"name": "audit"}],
                    "extensions": ["pgcrypto"],
                    "settings": {"max_connections": 200},
                }
            },
        }
    )
    pg = plan.build(cfg).service("postgres")
    assert pg.port == 6543
    assert pg.env["DATABASE_URL"] == "postgresql://postgres@{host}:{port}/shop"
    assert pg.start[-2:] == ["-c", "max_connections=200"]
    hooks = [h.model_dump() for h in pg.post_start]
    assert {"type": "create_database", "name": "audit"} in hooks
    assert {"type": "sql", "database": "shop", "sql": 'CREATE EXTENSION IF NOT EXISTS "pgcrypto"'} in hooks
    assert {"type": "sql", "database": "shop", "sql": 'CREATE SCHEMA IF NOT EXISTS "billing"'} in hooks
    assert pg.needs_unprivileged_user and pg.stop_signal == "SIGINT"


def test_postgres_initial_script_brackets_the_databases() -> None:
    cfg = RisoConfig.model_validate(
        {
            "features": ["database"],
            "services": {
                "postgres": {"initial_script": {"before": "CREATE ROLE r", "after": "GRANT ALL ON DATABASE app TO r"}}
            },
        }
    )
    hooks = [h.model_dump() for h in plan.build(cfg).service("postgres").post_start]
    assert hooks[0] == {"type": "sql", "database": "postgres", "sql": "CREATE ROLE r"}
    assert hooks[1] == {"type": "create_database", "name": "app"}
    assert hooks[-1] == {"type": "sql", "database": "postgres", "sql": "GRANT ALL ON DATABASE app TO r"}


def test_postgres_paths_listen_addresses_hba_and_initdb_args() -> None:
    cfg = RisoConfig.model_validate(
        {
            "features": ["database"],
            "services": {
                "postgres": {
                    "listen_addresses": "",
                    "socket_dir": "{state}/sock",
                    "data_dir": "{state}/pg",
                    "hba_conf": "local all all trust\n",
                    "initdb_args": ["--username=postgres", "--auth=trust"],
                }
            },
        }
    )
    pg = plan.build(cfg).service("postgres")
    assert pg.data_dir == "{state}/pg" and pg.socket_dir == "{state}/sock"
    assert "listen_addresses=" in pg.start
    assert pg.start[-2:] == ["-c", "hba_file={state}/postgres-hba.conf"]
    assert pg.files[0].content == "local all all trust\n"
    assert pg.init == [["{bin:initdb}", "--pgdata={data_dir}", "--username=postgres", "--auth=trust"]]


def test_version_is_postgres_only() -> None:
    with pytest.raises(ValidationError):
        RisoConfig.model_validate({"services": {"redis": {"version": "7"}}})


def test_grafana_settings_are_ini_sections_over_risos() -> None:
    cfg = RisoConfig.model_validate(
        {"features": ["monitoring"], "services": {"grafana": {"settings": {"server": {"root_url": "http://x/"}}}}}
    )
    ini = plan.build(cfg).service("grafana").files[0].content
    assert "[server]\nhttp_addr={host}\nhttp_port={port}\nroot_url=http://x/\n" in ini
    assert "admin_password=admin\n" in ini


def test_prometheus_scrapes_the_app_only_with_api() -> None:
    without = plan.build(RisoConfig(name="d", features=["monitoring"])).service("prometheus")
    with_api = plan.build(RisoConfig(name="d", features=["api", "monitoring"])).service("prometheus")
    assert "job_name: d" not in without.files[0].content
    assert "job_name: d" in with_api.files[0].content


def test_prometheus_evaluates_the_project_alert_rules_with_api() -> None:
    without = plan.build(RisoConfig(name="d", features=["monitoring"])).service("prometheus")
    with_api = plan.build(RisoConfig(name="d", features=["api", "monitoring"])).service("prometheus")
    assert "rule_files" not in without.files[0].content
    assert "rule_files:\n  - '{root}/prometheus/*.rules.yml'\n" in with_api.files[0].content


def test_grafana_depends_on_prometheus() -> None:
    built = plan.build(RisoConfig(name="d", features=["monitoring"]))
    assert built.service("grafana").depends_on == ["prometheus"]
    assert "{port:prometheus}" in built.service("grafana").files[1].content


def test_committed_schema_is_current_and_validates_plans() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    committed = (REPO / "schema" / "plan.schema.json").read_text()
    assert committed == plan.json_schema(), "regenerate schema/plan.schema.json (see docs/plan.md)"
    built = plan.build(RisoConfig(name="d", features=sorted(features.FEATURES)))
    jsonschema.validate(json.loads(plan.to_json(built)), json.loads(committed))


def test_plan_round_trips_and_bad_plan_files_are_named(tmp_path: Path) -> None:
    built = plan.build(RisoConfig(name="d", features=["database", "cache"]))
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json(built))
    assert plan.load(path) == built
    path.write_text('{"schema_version": 1}')
    with pytest.raises(ConfigError, match=r"plan file .* is invalid"):
        plan.load(path)
    with pytest.raises(ConfigError, match="does not exist"):
        plan.load(tmp_path / "absent.json")


def test_postgres_instances_follow_postgres() -> None:
    cfg = RisoConfig.model_validate(
        {
            "features": ["database", "cache"],
            "services": {"postgres": {"instances": {"analytics": {"port": 7000}, "off": {"enable": False}}}},
        }
    )
    built = plan.build(cfg)
    assert [s.name for s in built.services] == ["postgres", "postgres-analytics", "redis"]
    extra = built.service("postgres-analytics")
    assert extra.env == {"DATABASE_URL_ANALYTICS": "postgresql://postgres@{host}:{port}/app"}
    assert extra.data_dir == "{state}/postgres-analytics" and extra.port == 7000


def test_postgres_instance_names_are_checked() -> None:
    with pytest.raises(ValidationError, match="instance name"):
        RisoConfig.model_validate({"services": {"postgres": {"instances": {"Bad Name": {}}}}})
