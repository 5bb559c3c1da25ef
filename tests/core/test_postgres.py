"""Postgres through the Runner: hooks, the privilege drop as root, and an ordinary user's run.

The module's project sits in a private folder (mode 700, like a home directory): run as root, the
unprivileged Postgres user cannot reach it, so its data must live in /var/lib/riso behind a symlink.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_support import alive, build_plan, needs_postgres, open_folder, project_pids, riso, write_project
from unprivileged import ORDINARY, as_user, ordinary_user

from riso.errors import RisoError
from riso.plan_model import CreateDatabase, Sql
from riso.runner import RELOCATED, Runner, process
from riso.runner.state import read_pid

pytestmark = needs_postgres

EXTRA = """
[tool.riso.services.postgres]
initial_databases = [{ name = "app", schemas = ["seeded"] }, { name = "reports", schemas = ["seeded"] }]
extensions = ["pgcrypto"]
"""
FEATURES = ["database"]
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root drops privileges / creates a user")


def psql(runner: Runner, database: str, sql: str) -> str:
    record = read_pid(runner.layout, "postgres")
    assert record is not None
    psql_bin = runner.service("postgres").binaries["psql"]
    assert psql_bin is not None
    done = subprocess.run(
        [psql_bin, "-X", "-tA", "-h", "127.0.0.1", "-p", str(record.port), "-U", "postgres", "-d", database, "-c", sql],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def uid_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


@pytest.fixture(scope="module")
def runner() -> Iterator[Runner]:
    private = Path(tempfile.mkdtemp(prefix="riso-private-"))  # mode 700
    root = write_project(private / "project", FEATURES, EXTRA)
    the_runner = Runner(build_plan(FEATURES, EXTRA), root)
    the_runner.up()
    yield the_runner
    pids = project_pids(root)
    the_runner.down(volumes=True)
    assert alive(pids) == []
    shutil.rmtree(private, ignore_errors=True)


def test_hooks_create_databases_extensions_and_seed_each_database(runner: Runner) -> None:
    for database in ("app", "reports"):
        assert psql(runner, database, "SELECT extname FROM pg_extension WHERE extname = 'pgcrypto'") == "pgcrypto"
        schema = "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'seeded'"
        assert psql(runner, database, schema) == "1"
    assert runner.env()["DATABASE_URL"].endswith("/app")


def test_hooks_run_again_harmlessly_on_the_next_start(runner: Runner) -> None:
    psql(runner, "app", "CREATE TABLE seeded.t (id int)")
    psql(runner, "app", "INSERT INTO seeded.t VALUES (7)")
    runner.down()
    assert runner.up().started == ["postgres"]
    assert psql(runner, "app", "SELECT id FROM seeded.t") == "7"


def test_a_failing_sql_hook_names_service_and_hook_and_stops_postgres(runner: Runner) -> None:
    runner.down()
    broken = runner.plan.model_copy(deep=True)
    broken.service("postgres").post_start.append(Sql(database="app", sql="SELEC nonsense"))
    with pytest.raises(RisoError, match=r"postgres: post_start hook \(.*sql on app\) failed: .*syntax error"):
        Runner(broken, runner.root).up()
    assert read_pid(runner.layout, "postgres") is None
    assert runner.up().started == ["postgres"]


def test_setup_hooks_run_again_only_when_the_plan_changes_them(runner: Runner) -> None:
    runner.down()
    changed = runner.plan.model_copy(deep=True)
    changed.service("postgres").post_start.append(CreateDatabase(name="late"))
    Runner(changed, runner.root).up()
    assert psql(runner, "late", "SELECT 1") == "1"  # a new setup hook runs on existing data
    psql(runner, "postgres", "DROP DATABASE late")
    Runner(changed, runner.root).down()
    Runner(changed, runner.root).up()
    exists = "SELECT count(*) FROM pg_database WHERE datname = 'late'"
    assert psql(runner, "postgres", exists) == "0"  # unchanged setup: not run again
    runner.down()
    runner.up()


@as_root
def test_as_root_postgres_runs_unprivileged_with_data_it_can_reach(runner: Runner) -> None:
    record = read_pid(runner.layout, "postgres")
    assert record is not None
    user = process.service_user(create=False)
    assert uid_of(record.pid) == user.uid != 0
    link = runner.layout.state / "postgres"
    assert link.is_symlink()  # the project folder is private: data relocated
    real = link.resolve()
    assert real.is_relative_to(RELOCATED)
    assert real.stat().st_uid == user.uid and (real / "PG_VERSION").is_file()
    assert record.socket_dir is not None and Path(record.socket_dir).is_relative_to(RELOCATED)
    assert process.can_traverse(real, user)


@as_root
def test_down_volumes_removes_relocated_data_too(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", FEATURES)
    runner = Runner(build_plan(FEATURES), root)
    runner.up()
    real = (runner.layout.state / "postgres").resolve()
    assert real.is_relative_to(RELOCATED)
    runner.down(volumes=True)
    assert not real.exists() and not (runner.layout.state / "postgres").exists()


def test_a_socket_path_too_long_for_unix_sockets_is_shortened(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    runner = Runner(build_plan(FEATURES), write_project(deep, FEATURES))
    long_dir = str(runner.layout.run)
    assert len(long_dir) > 100
    short = runner._short_socket_dir(long_dir, os.geteuid())
    assert len(short) < 60 and Path(short).is_dir()
    assert Path(short).stat().st_uid == os.geteuid()
    shutil.rmtree(short)


# --- an ordinary user -----------------------------------------------------------------------------


@as_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) not installed")
def test_an_ordinary_user_runs_the_stack_through_the_cli() -> None:
    user = ordinary_user()
    folder = open_folder("riso-user-")
    root = write_project(folder / "project", ["database", "cache"])
    os.chown(folder, user.pw_uid, user.pw_gid)
    os.chown(root, user.pw_uid, user.pw_gid)
    os.chown(root / "pyproject.toml", user.pw_uid, user.pw_gid)
    prefix = as_user(ORDINARY)
    env = {"HOME": str(folder), "USER": ORDINARY}
    try:
        up = riso("up", "-d", cwd=root, env=env, prefix=prefix, timeout=180)
        assert up.code == 0, up.output
        record = read_pid(Runner(build_plan(["database", "cache"]), root).layout, "postgres")
        assert record is not None
        assert uid_of(record.pid) == user.pw_uid
        assert not (root / ".riso/state/postgres").is_symlink()
        assert (root / ".riso/state/postgres").stat().st_uid == user.pw_uid
        exports = riso("env", cwd=root, env=env, prefix=prefix).stdout
        check = subprocess.run(
            ["bash", "-c", exports + 'psql "$DATABASE_URL" -X -tAc "select 1" && redis-cli -u "$REDIS_URL" ping'],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert check.stdout.split() == ["1", "PONG"], check.stderr
        assert riso("status", cwd=root, env=env, prefix=prefix).code == 0
    finally:
        pids = project_pids(root)
        down = riso("down", "--volumes", cwd=root, env=env, prefix=prefix)
        assert down.code == 0, down.output
        assert alive(pids) == []
        shutil.rmtree(folder, ignore_errors=True)
