"""The plugin in each mode, run as a user's project runs it: a separate pytest process using the fixtures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from plugin_helpers import (
    REDIS_TESTS,
    SAME_ROW_TESTS,
    lines,
    pg,
    port_of,
    port_refuses,
    run_inner,
    write_inner,
)

from riso import plan as riso_plan
from riso.config import RisoConfig
from riso.testing import containers

URLS_FROM_ENVIRONMENT = """
import os
from urllib.parse import urlsplit


def test_servers_come_from_the_environment(postgres_url, database_url, redis_url):
    env_pg, env_redis = urlsplit(os.environ["DATABASE_URL"]), urlsplit(os.environ["REDIS_URL"])
    assert (urlsplit(postgres_url).port, urlsplit(postgres_url).path) == (env_pg.port, "/postgres")
    assert urlsplit(database_url).port == env_pg.port
    assert urlsplit(database_url).path not in ("/app", "/postgres")
    assert urlsplit(redis_url).port == env_redis.port
    assert urlsplit(redis_url).path != env_redis.path
"""

FAILING_TEST = """
from helpers import record


def test_fails_on_purpose(postgres_url, redis_url):
    record("servers.txt", postgres_url)
    record("servers.txt", redis_url)
    assert False, "failing on purpose"
"""


def hide_binaries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A plan whose services have no binaries (as on a machine without them) and an empty PATH."""
    plan = riso_plan.build(RisoConfig(name="nobinaries", features=["database", "cache"]))
    for svc in plan.services:
        svc.binaries = dict.fromkeys(svc.binaries)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(riso_plan.to_json(plan), encoding="utf-8")
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("RISO_PLAN", str(plan_file))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


def test_local_binaries_isolated_databases_and_servers_stopped_after_a_failure(pytester: pytest.Pytester) -> None:
    write_inner(pytester, test_db=SAME_ROW_TESTS, test_redis=REDIS_TESTS, test_fail=FAILING_TEST)
    result = run_inner(pytester)
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(
        [
            "riso: postgres from local binaries (DATABASE_URL is not set; server binaries found in *)",
            "riso: redis from local binaries (REDIS_URL is not set; server binaries found in *)",
        ]
    )
    assert len(lines(pytester.path / "migrate_calls.txt")) == 1
    urls = lines(pytester.path / "database_urls.txt")
    assert len(urls) == len(set(urls)) == 4
    assert len({port_of(u) for u in urls}) == 1
    for url in lines(pytester.path / "servers.txt"):
        assert port_refuses(port_of(url)), f"{url} still answers after the session"


def test_environment_urls_are_used_and_their_data_left_alone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, running_services: dict[str, str]
) -> None:
    database, cache = running_services["DATABASE_URL"], running_services["REDIS_URL"]
    pg(database, "CREATE TABLE IF NOT EXISTS keep (v text)")
    pg(database, "INSERT INTO keep VALUES ('dev data')")
    with redis.Redis.from_url(cache) as client:
        client.set("dev-key", "dev data")
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("REDIS_URL", cache)
    write_inner(pytester, test_db=SAME_ROW_TESTS, test_redis=REDIS_TESTS, test_urls=URLS_FROM_ENVIRONMENT)

    result = run_inner(pytester)

    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(
        ["riso: postgres from environment (DATABASE_URL is set)", "riso: redis from environment (REDIS_URL is set)"]
    )
    assert len(lines(pytester.path / "migrate_calls.txt")) == 1
    assert pg(database, "SELECT datname FROM pg_database WHERE datname LIKE 'riso\\_%'") == []
    assert pg(database, "SELECT v FROM keep") == [("dev data",)]
    with redis.Redis.from_url(cache) as client:
        assert client.get("dev-key") == b"dev data"
    assert not port_refuses(port_of(database), timeout=0.5), "the plugin stopped a server it did not start"


def test_xdist_workers_share_an_environment_server_without_colliding(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, running_services: dict[str, str]
) -> None:
    pytest.importorskip("xdist", reason="pytest-xdist is not installed")
    monkeypatch.setenv("DATABASE_URL", running_services["DATABASE_URL"])
    monkeypatch.setenv("REDIS_URL", running_services["REDIS_URL"])
    write_inner(pytester, test_db=SAME_ROW_TESTS, test_redis=REDIS_TESTS)

    result = run_inner(pytester, "-n", "2")

    result.assert_outcomes(passed=6)
    workers = sorted(line.split()[0] for line in lines(pytester.path / "migrate_calls.txt"))
    assert workers == ["gw0", "gw1"], "riso_migrate runs once per worker session"
    # Each worker empties its own database, never the one in REDIS_URL (/0, the app's).
    for line in lines(pytester.path / "redis_urls.txt"):
        worker, url = line.split()
        assert url.endswith({"gw0": "/15", "gw1": "/14"}[worker]), line


def test_testcontainers_when_a_docker_engine_answers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if not containers.engine_answers():
        pytest.skip(f"no Docker engine answers at {containers.docker_host()}")
    pytest.importorskip("testcontainers", reason="pip install 'riso[testcontainers]'")
    hide_binaries(monkeypatch, tmp_path)
    write_inner(pytester, test_db=SAME_ROW_TESTS, test_redis=REDIS_TESTS)

    result = run_inner(pytester)

    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["riso: postgres from testcontainers *", "riso: redis from testcontainers *"])


def test_no_server_anywhere_names_what_to_install(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hide_binaries(monkeypatch, tmp_path)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    pytester.makepyfile(test_nothing="def test_db(database_url): pass\n\ndef test_cache(redis_url): pass\n")

    result = run_inner(pytester)

    result.assert_outcomes(errors=2)
    assert (
        "riso: no Postgres server for the tests: DATABASE_URL is not set; no Postgres server binaries "
        "(initdb, pg_ctl, postgres, psql not found in RISO_PLAN); no Docker engine answered at "
        "unix:///nonexistent/docker.sock. Fix: install the Postgres server binaries (Debian: apt-get install "
        "postgresql; Nix: nix develop), or set DATABASE_URL to a running server, or start a Docker engine and "
        "pip install 'riso[testcontainers]'"
    ) in result.stdout.lines
    assert (
        "riso: no Redis server for the tests: REDIS_URL is not set; no Redis server binaries (redis-server not "
        "found in RISO_PLAN); no Docker engine answered at unix:///nonexistent/docker.sock. Fix: install "
        "redis-server (Debian: apt-get install redis-server; Nix: nix develop), or set REDIS_URL to a running "
        "server, or start a Docker engine and pip install 'riso[testcontainers]'"
    ) in result.stdout.lines
    output = result.stdout.str()
    assert "Traceback" not in output
    assert "During handling" not in output


def test_plugin_loads_without_a_postgres_driver(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, running_services: dict[str, str]
) -> None:
    # Imported first by every Python started in pytester's folder: no Postgres driver can be imported.
    pytester.makepyfile(
        sitecustomize="import sys\n\nfor name in ('asyncpg', 'psycopg', 'psycopg2'):\n    sys.modules[name] = None\n"
    )
    pytester.makepyfile(
        test_nodriver="""
        import redis

        def test_cache_works(redis_url):
            assert redis.Redis.from_url(redis_url).ping()

        def test_database_names_the_driver(database_url):
            pass
        """
    )
    monkeypatch.setenv("DATABASE_URL", running_services["DATABASE_URL"])
    monkeypatch.setenv("REDIS_URL", running_services["REDIS_URL"])

    result = run_inner(pytester)

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["riso: the database fixtures need the asyncpg package. Fix: pip install asyncpg *"])


def test_servers_stop_when_pytest_is_killed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_hang="""
        import time
        from pathlib import Path

        def test_hang(postgres_url, redis_url):
            Path("urls.txt").write_text(postgres_url + "\\n" + redis_url + "\\n")
            time.sleep(120)
        """
    )
    urls_file = pytester.path / "urls.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_hang.py"],
        cwd=pytester.path,
        env={**os.environ, "PYTHONPATH": str(pytester.path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not urls_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert urls_file.exists(), "the inner session never got its servers"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    for url in lines(urls_file):
        assert port_refuses(port_of(url), timeout=30), f"{url} outlived its killed pytest"


def test_environment_url_of_a_stopped_server_says_so(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/app")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    pytester.makepyfile(test_down="def test_db(database_url): pass\n\ndef test_cache(redis_url): pass\n")

    result = run_inner(pytester)

    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "riso: cannot connect to Postgres at postgresql://postgres@127.0.0.1:1/postgres: *. Fix: if DATABASE_URL "
            "points there, start that server (`riso up -d`) or unset DATABASE_URL so the tests start their own",
            "riso: cannot reach Redis at 127.0.0.1:1: *. Fix: if REDIS_URL points there, start that server *",
        ]
    )
