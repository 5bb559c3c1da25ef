"""End to end through the CLI: database + cache + monitoring on real Postgres, Redis and Prometheus.

One project is started once for the module (one initdb); tests that stop or crash a service bring
it back before they end, so every test starts with the stack up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_support import (
    RISO,
    Result,
    alive,
    needs_postgres,
    needs_prometheus,
    needs_redis,
    open_folder,
    project_pids,
    riso,
    stop_project,
    write_project,
)

from riso.runner.state import Layout, read_pid

pytestmark = [needs_postgres, needs_redis, needs_prometheus]

FEATURES = ["database", "cache", "monitoring"]
FAST_SCRAPE = '\n[tool.riso.services.prometheus]\nscrape_interval = "1s"\n'


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Path, Result]]:
    root = write_project(open_folder("riso-stack-"), FEATURES, FAST_SCRAPE)
    started = riso("up", "-d", "--allow-missing", cwd=root, timeout=180)
    assert started.code == 0, started.output
    yield root, started
    stop_project(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def root(stack: tuple[Path, Result]) -> Path:
    return stack[0]


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "RISO": RISO},
    )


def env_of(root: Path) -> dict[str, str]:
    exports = riso("env", "--dotenv", cwd=root)
    assert exports.code == 0, exports.output
    pairs = [line.split("=", 1) for line in exports.stdout.splitlines()]
    assert all(value.startswith("'") and value.endswith("'") for _, value in pairs)  # taken literally
    return {name: value[1:-1] for name, value in pairs}


def psql(root: Path, sql: str) -> str:
    done = shell(f'eval "$("$RISO" env)"; psql "$DATABASE_URL" -X -tAc "{sql}"', root)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def pids_by_service(root: Path) -> dict[str, int]:
    layout = Layout(root)
    return {n: r.pid for n in ("postgres", "redis", "prometheus") if (r := read_pid(layout, n))}


def test_up_starts_all_and_names_grafana_as_skipped(stack: tuple[Path, Result]) -> None:
    _, started = stack
    assert "ready: postgres" in started.stdout and "redis" in started.stdout and "prometheus" in started.stdout
    assert "skipping grafana" in started.stderr
    assert "grafana.com" in started.stderr  # how to get it
    assert "Traceback" not in started.output


def test_psql_and_redis_cli_work_after_eval_of_riso_env(root: Path) -> None:
    done = shell(
        'eval "$("$RISO" env)"; psql "$DATABASE_URL" -X -tAc "select 1" && redis-cli -u "$REDIS_URL" ping', root
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "PONG"]


def test_env_exports_every_url_and_a_dotenv_form(root: Path) -> None:
    exports = riso("env", cwd=root).stdout.splitlines()
    names = [line.split("=", 1)[0] for line in exports]
    assert {"export DATABASE_URL", "export REDIS_URL", "export PROMETHEUS_URL"} <= set(names)
    assert not any("GRAFANA_URL" in line for line in exports)  # absent here, so not exported
    assert all(line.startswith("export ") and line.endswith("'") for line in exports)
    dotenv = env_of(root)
    assert dotenv["DATABASE_URL"].startswith("postgresql://postgres@127.0.0.1:")
    assert dotenv["DATABASE_URL"].endswith("/app")  # the create_database hook made it


def test_prometheus_scrapes_itself(root: Path) -> None:
    base = env_of(root)["PROMETHEUS_URL"]
    query = urllib.parse.quote('up{job="prometheus"}')
    deadline = time.monotonic() + 30
    values: list[str] = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/v1/query?query={query}", timeout=5) as response:
            result = json.load(response)["data"]["result"]
        values = [r["value"][1] for r in result]
        if values == ["1"]:
            break
        time.sleep(0.5)
    assert values == ["1"]


def test_status_shows_each_service_and_exits_zero(root: Path) -> None:
    status = riso("status", "--json", cwd=root)
    assert status.code == 0, status.output
    by_name = {s["name"]: s for s in json.loads(status.stdout)}
    for name in ("postgres", "redis", "prometheus"):
        assert by_name[name]["state"] == "running" and by_name[name]["healthy"] is True
        assert isinstance(by_name[name]["pid"], int) and isinstance(by_name[name]["port"], int)
    assert by_name["grafana"]["state"] == "missing"
    assert len({by_name[n]["port"] for n in ("postgres", "redis", "prometheus")}) == 3


def test_second_up_says_so_and_changes_nothing(root: Path) -> None:
    before = pids_by_service(root)
    ports_before = (root / ".riso/run/ports.json").read_text()
    again = riso("up", "-d", "--allow-missing", cwd=root)
    assert again.code == 0, again.output
    assert "already running" in again.stdout and "nothing changed" in again.stdout
    assert pids_by_service(root) == before
    assert (root / ".riso/run/ports.json").read_text() == ports_before


def test_without_allow_missing_grafana_is_named_with_how_to_get_it(root: Path) -> None:
    before = pids_by_service(root)
    refused = riso("up", "-d", cwd=root)
    assert refused.code != 0
    assert len(refused.error_lines()) == 1, refused.stderr
    line = refused.error_lines()[0]
    assert "grafana" in line and "not found" in line and "--allow-missing" in line and "grafana.com" in line
    assert "Traceback" not in refused.output
    assert pids_by_service(root) == before


def test_a_row_survives_down_and_up_and_down_leaves_no_process(root: Path) -> None:
    psql(root, "CREATE TABLE IF NOT EXISTS notes (body text); INSERT INTO notes VALUES ('kept')")
    pids = project_pids(root)
    assert len(pids) > 3  # the three servers and Postgres' own background processes
    stopped = riso("down", cwd=root)
    assert stopped.code == 0, stopped.output
    assert "stopped: prometheus, redis, postgres" in stopped.stdout  # reverse start order
    assert alive(pids) == []
    assert list((root / ".riso/run").glob("*.pid")) == []
    assert (root / ".riso/state/postgres/PG_VERSION").is_file()  # data kept
    assert riso("status", cwd=root).code == 0  # nothing is expected to run after down
    assert riso("up", "-d", "--allow-missing", cwd=root).code == 0
    assert psql(root, "SELECT body FROM notes") == "kept"


def test_kill_9_of_postgres_is_reported_and_up_brings_it_back_with_the_row(root: Path) -> None:
    psql(root, "CREATE TABLE IF NOT EXISTS crash (body text); INSERT INTO crash VALUES ('survives')")
    postmaster = pids_by_service(root)["postgres"]
    os.kill(postmaster, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while alive([postmaster]) and time.monotonic() < deadline:
        time.sleep(0.05)
    status = riso("status", cwd=root)
    assert status.code != 0
    assert "postgres" in status.stderr and "crashed" in status.stderr
    assert "Traceback" not in status.output
    others = {n: p for n, p in pids_by_service(root).items() if n != "postgres"}
    back = riso("up", "-d", "--allow-missing", cwd=root)
    assert back.code == 0, back.output
    assert "ready: postgres" in back.stdout
    assert {n: p for n, p in pids_by_service(root).items() if n != "postgres"} == others  # untouched
    assert pids_by_service(root)["postgres"] != postmaster
    assert psql(root, "SELECT body FROM crash") == "survives"
    assert riso("status", cwd=root).code == 0


def test_logs_of_one_service_and_of_all(root: Path) -> None:
    one = riso("logs", "postgres", cwd=root)
    assert one.code == 0 and "ready to accept connections" in one.stdout
    every = riso("logs", cwd=root)
    prefixes = {line.split("|", 1)[0].strip() for line in every.stdout.splitlines() if "|" in line}
    assert {"postgres", "redis", "prometheus"} <= prefixes
    unknown = riso("logs", "mysql", cwd=root)
    assert unknown.code != 0 and "unknown service 'mysql'" in unknown.stderr


def test_doctor_lists_versions_and_names_the_missing_binary(root: Path) -> None:
    report = riso("doctor", cwd=root)
    assert report.code == 1  # Grafana is absent
    assert "PostgreSQL" in report.stdout and "Redis" in report.stdout.replace("redis", "Redis")
    assert "grafana" in report.stdout and "not found" in report.stdout
    assert "Postgres 15 cluster" in report.stdout or "cluster in" in report.stdout
    assert "Traceback" not in report.output


def test_two_projects_side_by_side_get_different_ports(root: Path) -> None:
    other = write_project(open_folder("riso-other-"), ["database", "cache"])
    try:
        assert riso("up", "-d", cwd=other, timeout=120).code == 0
        mine, theirs = env_of(root), env_of(other)
        assert mine["DATABASE_URL"] != theirs["DATABASE_URL"] and mine["REDIS_URL"] != theirs["REDIS_URL"]
        assert psql(other, "SELECT 2") == "2" and psql(root, "SELECT 1") == "1"
    finally:
        stop_project(other)
        shutil.rmtree(other, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="the privilege drop happens only as root")
def test_as_root_postgres_runs_unprivileged_in_the_project(root: Path) -> None:
    data = root / ".riso/state/postgres"
    assert data.is_dir() and not data.is_symlink()  # the project folder is reachable: no relocation
    record = read_pid(Layout(root), "postgres")
    assert record is not None
    owner = data.stat().st_uid
    assert owner != 0
    status = Path(f"/proc/{record.pid}/status").read_text()
    assert f"Uid:\t{owner}\t" in status
    assert record.socket_dir == str(root / ".riso/run/postgres")
    assert (Path(record.socket_dir) / f".s.PGSQL.{record.port}").is_socket()
