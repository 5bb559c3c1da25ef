"""Everyday accidents around `riso up` / `down`: each ends with one clear line (no traceback), a
non-zero exit when something is wrong, no committed row lost, no process of the project left running
that riso cannot see, and nothing outside the project signalled or deleted.

Processes are found by scanning /proc for the folders they work in (`working_in`); rows are counted
in the real Postgres before and after. docs/runner.md states the contract these tests hold riso to.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_support import (
    RISO,
    build_plan,
    needs_postgres,
    needs_redis,
    open_folder,
    riso,
    write_project,
)
from fault_support import cli_env, exports, one_line_error, psql, wait_for, working_in

from riso.runner import Runner, probes, process
from riso.runner.state import Layout, read_pid

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (relocated data, mounts)")


@pytest.fixture
def area() -> Iterator[Path]:
    """A folder for several projects; afterwards nothing may work in it."""
    path = open_folder("riso-faults-")
    yield path
    for pyproject in sorted(path.glob("**/pyproject.toml")):
        riso("down", "--volumes", cwd=pyproject.parent)
    left = working_in(path)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)
    assert left == [], f"processes {left} were left running in {path}"


def up(root: Path, *args: str) -> str:
    done = riso("up", "-d", *args, cwd=root, timeout=180)
    assert done.code == 0, done.output
    return done.stdout


def database_url(root: Path) -> str:
    return exports(riso("env", cwd=root).stdout)["DATABASE_URL"]


def count_rows(url: str) -> int:
    return int(psql(url, "SELECT count(*) FROM notes"))


def seed(url: str, rows: int = 3) -> None:
    psql(url, f"CREATE TABLE notes (id int); INSERT INTO notes SELECT generate_series(1, {rows})")


# --- copies and foreign processes -------------------------------------------------------------------


@as_root
@needs_postgres
def test_a_copy_of_a_relocated_project_never_touches_the_original() -> None:
    private = Path(tempfile.mkdtemp(prefix="riso-private-"))  # mode 700: data relocated
    original = write_project(private / "original", ["database"])
    copy = private / "copy"
    try:
        up(original)
        url = database_url(original)
        seed(url)
        real = (original / ".riso/state/postgres").resolve()
        assert not real.is_relative_to(private)
        server = servers_in(real)
        subprocess.run(["cp", "-a", str(original), str(copy)], check=True)

        one_line_error(riso("up", "-d", cwd=copy), "belongs to project", str(original))
        doctor = riso("doctor", cwd=copy)
        assert doctor.code == 1 and f"belongs to project {original}" in doctor.stdout, doctor.output
        assert "running" not in riso("status", cwd=copy).stdout
        assert riso("down", "--volumes", cwd=copy).code == 0
        assert servers_in(real) == server  # nothing signalled
        assert not (copy / ".riso/state/postgres").exists()  # the copy's link is gone, not the data
        assert count_rows(url) == 3

        assert riso("down", cwd=original).code == 0
        assert working_in(real) == []
        up(original)
        assert count_rows(database_url(original)) == 3  # no silent initdb: the rows are there
    finally:
        riso("down", "--volumes", cwd=original)
        shutil.rmtree(private, ignore_errors=True)


@needs_redis
def test_a_project_copied_while_running_leaves_the_original_alone(area: Path) -> None:
    original = write_project(area / "original", ["cache"])
    up(original)
    server = working_in(original / ".riso/state/redis")
    assert len(server) == 1
    copy = area / "copy"
    subprocess.run(["cp", "-a", str(original), str(copy)], check=True)

    assert "running" not in riso("status", cwd=copy).stdout  # the copied record names the original's
    assert riso("down", cwd=copy).stdout.strip() == "nothing was running"
    assert working_in(original / ".riso/state/redis") == server
    assert "ready: redis" in up(copy)  # its own server on its own copy of the data
    own = working_in(copy / ".riso/state/redis")
    assert len(own) == 1 and own != server
    assert riso("down", cwd=copy).stdout.strip() == "stopped: redis"
    assert working_in(copy / ".riso/state/redis") == []
    assert working_in(original / ".riso/state/redis") == server


@needs_redis
def test_a_record_naming_an_unrelated_process_is_never_signalled(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    elsewhere = area / "elsewhere"
    elsewhere.mkdir()
    bystander = subprocess.Popen(["sleep", "300"], cwd=elsewhere)
    try:
        started = process.start_time(bystander.pid)
        layout = Layout(root)
        layout.ensure()
        record = {"pid": bystander.pid, "start_time": started, "port": 6399, "data_dir": str(layout.state / "redis")}
        layout.pid_file("redis").write_text(json.dumps(record))
        layout.up_file.write_text('["redis"]')

        assert "running" not in riso("status", cwd=root).stdout.split()[:2]
        assert "ready: redis" in up(root)  # not "already running"
        assert riso("down", cwd=root).stdout.strip() == "stopped: redis"
        assert bystander.poll() is None  # pid and start time matched; the rest did not
        assert working_in(root) == []
    finally:
        bystander.kill()
        bystander.wait()


# --- killed starts ------------------------------------------------------------------------------------


def kill_up_when(root: Path, ready: object) -> None:
    """Start `riso up -d`, SIGKILL it once `ready()` holds."""
    proc = subprocess.Popen(
        [RISO, "up", "-d"], cwd=root, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for(ready, timeout=60, what="the moment to kill riso up")  # type: ignore[arg-type]
    finally:
        proc.kill()
        proc.wait()


@needs_postgres
def test_up_killed_during_initdb_is_redone_by_the_next_up(area: Path) -> None:
    root = write_project(area / "project", ["database"])
    state = root / ".riso/state"
    kill_up_when(root, lambda: state.is_dir() and list(state.glob(".postgres.init-*")) and working_in(state))
    assert not (state / "postgres" / "PG_VERSION").exists()  # killed before the cluster was complete
    doctor = riso("doctor", cwd=root)
    assert doctor.code == 1 and "interrupted init" in doctor.stdout

    up(root)
    assert list(state.glob(".postgres.init-*")) == []
    url = database_url(root)
    assert psql(url, "SELECT current_database()") == "app"  # the setup hooks ran
    assert riso("doctor", cwd=root).code == 0
    assert riso("down", cwd=root).code == 0
    assert working_in(root) == []


def servers_in(data: Path) -> list[int]:
    """The processes working in `data` that listen on a port (a server, not its helpers)."""
    return wait_for(lambda: [p for p in working_in(data) if process.listening_ports(p)], what="a server")  # type: ignore[return-value]


@needs_postgres
def test_up_killed_after_recording_the_server_finishes_setup_on_the_next_up(area: Path) -> None:
    root = write_project(area / "project", ["database"])
    run = root / ".riso/run"
    kill_up_when(root, lambda: (run / "postgres.pid").exists())
    assert not (run / "postgres.setup").exists()  # killed before the setup hooks completed
    server = servers_in(root / ".riso/state/postgres")

    assert "already running" in up(root)
    assert servers_in(root / ".riso/state/postgres") == server  # the same server, no second one
    assert psql(database_url(root), "SELECT current_database()") == "app"
    assert (run / "postgres.setup").exists()


@needs_postgres
def test_doctor_does_not_call_a_half_made_cluster_ok(area: Path) -> None:
    root = write_project(area / "project", ["database"])
    data = root / ".riso/state/postgres"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")  # what an initdb killed half-way leaves in place
    doctor = riso("doctor", cwd=root)
    assert doctor.code == 1 and "not a complete Postgres cluster" in doctor.stdout
    one_line_error(riso("up", "-d", cwd=root), "not a Postgres cluster", "never deletes")
    assert (data / "PG_VERSION").read_text() == "15\n"


# --- servers riso could lose sight of ------------------------------------------------------------------


@as_root
@needs_redis
def test_a_server_whose_record_cannot_be_written_is_stopped_at_once(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    up(root)
    assert riso("down", cwd=root).code == 0  # ports.json and the lock exist now
    run = root / ".riso/run"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,nr_inodes=64", "tmpfs", str(run)], check=True)
    try:
        (run / "lock").touch()
        (run / "ports.json").write_text(json.dumps({"redis": free_port()}))
        riso("status", cwd=root)  # the plan cache is written now, not by `up`
        assert (run / "plan-cache.json").is_file()
        # Room for one more file (the start record) and no more: the pid record is the write that fails.
        filler = 0
        while os.statvfs(run).f_favail > 1:
            (run / f"filler{filler}").touch()
            filler += 1
        result = riso("up", "-d", cwd=root)
        one_line_error(result, "redis", "cannot record", "stopped it")
        assert working_in(root) == []
    finally:
        subprocess.run(["umount", str(run)], check=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@needs_redis
def test_a_server_is_found_from_its_data_dir_when_its_record_is_gone(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    up(root)
    server = working_in(root / ".riso/state/redis")
    shutil.rmtree(root / ".riso/run")
    status = riso("status", cwd=root)
    assert status.code == 0 and status.stdout.split()[:2] == ["redis", "running"], status.output
    assert "already running" in up(root)
    assert working_in(root / ".riso/state/redis") == server  # not a second server on the same data
    shutil.rmtree(root / ".riso/run")
    assert riso("down", cwd=root).stdout.strip() == "stopped: redis"
    assert working_in(root) == []


@as_root
@needs_redis
def test_down_works_on_a_read_only_state_folder(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    up(root)
    assert working_in(root)
    base = str(root / ".riso")
    subprocess.run(["mount", "--bind", base, base], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", base], check=True)
        down = riso("down", cwd=root)
        assert down.code == 0 and down.stdout.strip() == "stopped: redis", down.output
        assert "Traceback" not in down.output and "read-only" in down.stderr.lower()
        assert working_in(root) == []
    finally:
        subprocess.run(["umount", base], check=True)


def kill_postmaster_during_a_query(root: Path) -> tuple[set[int], subprocess.Popen[bytes]]:
    """kill -9 of the postmaster while a backend is busy; returns that backend (still running)."""
    data = root / ".riso/state/postgres"
    url = database_url(root)
    busy = subprocess.Popen(["psql", url, "-X", "-c", "DO $$BEGIN LOOP PERFORM 1; END LOOP; END$$"])
    active = "SELECT pid FROM pg_stat_activity WHERE query LIKE 'DO $$BEGIN LOOP%' AND state = 'active'"
    # pg_stat_activity names the busy backend itself (a new set of processes may hold an autovacuum worker)
    backend = {int(pid) for pid in str(wait_for(lambda: psql(url, active), what="the busy backend")).split()}
    record = read_pid(Layout(root), "postgres")
    assert record is not None
    os.kill(record.pid, signal.SIGKILL)
    wait_for(lambda: record.pid not in working_in(data), what="the postmaster to die")
    assert backend <= set(working_in(data))  # it outlived its postmaster
    return backend, busy


@needs_postgres
def test_backends_outliving_a_killed_postmaster_are_found_and_stopped(area: Path) -> None:
    root = write_project(area / "project", ["database"])
    data = root / ".riso/state/postgres"
    up(root)
    seed(database_url(root))
    backend, busy = kill_postmaster_during_a_query(root)
    assert riso("down", cwd=root).code == 0
    assert working_in(data) == []
    busy.wait(timeout=30)

    up(root)
    backend, busy = kill_postmaster_during_a_query(root)
    up(root)  # no "pre-existing shared memory block is still in use"
    assert not backend & set(working_in(data))
    assert count_rows(database_url(root)) == 3
    busy.wait(timeout=30)
    assert riso("down", cwd=root).code == 0
    assert working_in(root) == []


# --- Ctrl-C ---------------------------------------------------------------------------------------------

SLOW_STOP = r"""
import http.server, signal, sys, time
def stop(*_):
    time.sleep(1.5)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


def slow_plan(root: Path) -> Path:
    """A plan with one service that takes 1.5 s to stop."""
    plan = build_plan(["cache"]).model_dump()
    plan["services"] = [
        {
            "name": "slow",
            "package": "python3",
            "binaries": {"python": sys.executable},
            "data_dir": "{state}/slow",
            "start": ["{bin:python}", "-c", SLOW_STOP, "{port}"],
            "readiness": {"type": "http", "timeout": 30, "path": "/"},
            "stop_signal": "SIGTERM",
            "stop_timeout": 10,
        }
    ]
    path = root / "plan.json"
    path.write_text(json.dumps(plan))
    return path


def test_a_second_ctrl_c_does_not_abort_the_stop(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    env = cli_env({"RISO_PLAN": str(slow_plan(root))})
    proc = subprocess.Popen([RISO, "up"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        while "Ctrl-C stops them" not in (line := proc.stdout.readline()):
            assert line, proc.stderr.read() if proc.stderr else ""
        assert working_in(root / ".riso/state/slow")
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)  # the service is still stopping
        assert working_in(root / ".riso/state/slow")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert "stopped: slow" in out and "Traceback" not in err, out + err
    assert working_in(root) == []
    assert proc.returncode == 0


# --- corrupt state files ------------------------------------------------------------------------------

GARBAGE = b"\xff\xfe\x00\x9c binary \x00 garbage"
BAD_STATE = {
    "ports-garbage": ("ports.json", GARBAGE),
    "up-garbage": ("up.json", GARBAGE),
    "pid-garbage": ("redis.pid", GARBAGE),
    "stamp-garbage": ("redis.setup", GARBAGE),
    "pid-2**40": ("redis.pid", json.dumps({"pid": 2**40, "start_time": 1, "port": 6379, "data_dir": "/x"}).encode()),
    "port-70000": ("redis.pid", json.dumps({"pid": 4242, "start_time": 1, "port": 70000, "data_dir": "/x"}).encode()),
}


# The commands that read each file (all of them fail on it; `riso up` before starting anything).
READERS = {
    "ports.json": [["up", "-d"], ["status"], ["env"], ["doctor"]],
    "up.json": [["up", "-d"], ["status"]],
    "redis.pid": [["up", "-d"], ["status"], ["env"], ["down"]],
    "redis.setup": [["up", "-d"]],
}


@needs_redis
@pytest.mark.parametrize("name,content", list(BAD_STATE.values()), ids=list(BAD_STATE))
def test_corrupt_state_is_one_clear_line_and_the_data_is_untouched(area: Path, name: str, content: bytes) -> None:
    root = write_project(area / "project", ["cache"])
    layout = Layout(root)
    layout.ensure()
    (layout.state / "redis").mkdir()
    (layout.state / "redis" / "dump.rdb").write_bytes(b"precious")
    (layout.run / name).write_bytes(content)
    for command in READERS[name]:
        one_line_error(riso(*command, cwd=root), f".riso/run/{name}")
    assert (layout.state / "redis" / "dump.rdb").read_bytes() == b"precious"
    assert working_in(root) == []


def test_probes_answer_not_ready_for_a_port_out_of_range(tmp_path: Path) -> None:
    for kind in ("redis", "http", "postgres"):
        target = probes.Target(host="127.0.0.1", port=70000, data_dir=tmp_path)
        assert probes.check(kind, target) is False


# --- quoting ---------------------------------------------------------------------------------------------


@needs_postgres
def test_a_project_path_with_a_comma_and_a_quote(area: Path) -> None:
    root = write_project(area / "it's, v2", ["database"])
    up(root)
    record = read_pid(Layout(root), "postgres")
    assert record is not None and record.socket_dir is not None
    assert "," not in record.socket_dir and "'" not in record.socket_dir
    assert psql(database_url(root), "SELECT 1") == "1"
    socket_url = f"postgresql:///postgres?host={urllib.parse.quote(record.socket_dir)}&port={record.port}&user=postgres"
    assert psql(socket_url, "SELECT 1") == "1"
    socket_dir = record.socket_dir
    assert riso("down", cwd=root).code == 0
    assert not Path(socket_dir).exists() or Path(socket_dir).is_relative_to(root)  # a short dir is removed


NASTY = 'dev$(touch PWNED)`touch PWNED2`"%?#&x'


@needs_postgres
def test_env_values_are_never_interpreted_and_the_url_is_percent_encoded(area: Path) -> None:
    extra = f"[tool.riso.services.postgres]\ninitial_databases = [{{name = {json.dumps(NASTY)}}}]\n"
    root = write_project(area / "project", ["database"], extra)
    up(root)
    dotenv = riso("env", "--dotenv", cwd=root)
    assert dotenv.code == 0, dotenv.output
    assert (root / ".riso/env").read_text() == dotenv.stdout  # what `riso up` wrote for direnv
    for text in (dotenv.stdout, riso("env", cwd=root).stdout):
        seen = exports(text)
        assert seen["PGDATABASE"] == NASTY
        url = seen["DATABASE_URL"]
        assert urllib.parse.unquote(urllib.parse.urlsplit(url).path[1:]) == NASTY
        assert "?" not in url and "#" not in url
        assert psql(url, "SELECT current_database()") == NASTY
    assert list(area.glob("**/PWNED*")) == [] and not Path("PWNED").exists()


@needs_redis
def test_env_names_from_a_plan_file_are_checked(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    plan = build_plan(["cache"]).model_dump()
    plan["services"][0]["env"]["X; touch PWNED"] = "1"
    path = root / "plan.json"
    path.write_text(json.dumps(plan))
    result = riso("env", cwd=root, env={"RISO_PLAN": str(path)})
    one_line_error(result, "X; touch PWNED", "not a valid environment variable name")
    assert not (root / "PWNED").exists()


def test_dotenv_refuses_what_no_reader_would_read_alike(area: Path) -> None:
    from riso.errors import RisoError
    from riso.runner import envfile

    assert exports(envfile.dotenv({"A": '$HOME `id` "x" \\ $(id)'}))["A"] == '$HOME `id` "x" \\ $(id)'
    with pytest.raises(RisoError, match="A holds"):
        envfile.dotenv({"A": "it's"})
    assert exports(envfile.shell({"A": "it's $x"}))["A"] == "it's $x"


# --- logs, hooks, socket dirs, environment ---------------------------------------------------------------


def test_logs_follow_survives_truncation_and_replacement(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    log = Layout(root).log_file("redis")
    log.parent.mkdir(parents=True)
    log.write_text("first\n")
    proc = subprocess.Popen([RISO, "logs", "-f", "redis"], cwd=root, env=cli_env(), stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "first\n"
        log.write_text("")  # truncated (as by `> file` or logrotate's copytruncate)
        time.sleep(0.5)
        with log.open("a") as handle:
            handle.write("after truncation\n")
        assert proc.stdout.readline() == "after truncation\n"
        fresh = log.with_name("fresh")
        fresh.write_text("after replacement\n")
        fresh.replace(log)  # replaced by a new file
        assert proc.stdout.readline() == "after replacement\n"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


@needs_redis
def test_a_hook_failing_in_any_way_stops_its_server(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    plan = build_plan(["cache"]).model_dump()
    plan["services"][0]["post_start"] = [{"type": "command", "argv": ["echo", "nul\0byte"]}]
    path = root / "plan.json"
    path.write_text(json.dumps(plan))
    one_line_error(riso("up", "-d", cwd=root, env={"RISO_PLAN": str(path)}), "redis", "post_start command")
    assert working_in(root) == []
    # Ctrl-C (KeyboardInterrupt, not a RisoError) while a hook runs stops the server too.
    plan["services"][0]["post_start"] = [{"type": "command", "argv": ["sleep", "30"]}]
    path.write_text(json.dumps(plan))
    proc = subprocess.Popen([RISO, "up", "-d"], cwd=root, env=cli_env({"RISO_PLAN": str(path)}), stderr=subprocess.PIPE)
    try:
        sleep = {process.real(shutil.which("sleep") or "sleep")}
        wait_for(lambda: process.find(process.real(root), sleep), what="the hook")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode != 0
    assert working_in(root / ".riso/state/redis") == []
    assert process.find(process.real(root), sleep) == {}  # the hook's own process is gone too


def test_the_short_socket_dir_is_fresh_private_and_never_a_planted_link(area: Path) -> None:
    deep = area / ("d" * 60) / ("e" * 60)
    runner = Runner(build_plan(["database"]), write_project(deep, ["database"]))
    victim = area / "victim"
    victim.mkdir(mode=0o755)
    planted = [Path(tempfile.gettempdir()) / f"riso-{os.geteuid()}-{runner._key}", Path("/tmp") / f"riso-{runner._key}"]
    for link in planted:
        link.unlink(missing_ok=True)
        link.symlink_to(victim)
    try:
        first = runner._short_socket_dir(str(runner.layout.run), os.geteuid())
        second = runner._short_socket_dir(str(runner.layout.run), os.geteuid())
        assert first != second and Path(first) not in planted
        for made in (first, second):
            st = os.lstat(made)
            assert not Path(made).is_symlink() and st.st_mode & 0o777 == 0o700 and st.st_uid == os.geteuid()
            os.rmdir(made)
        assert victim.stat().st_mode & 0o777 == 0o755 and list(victim.iterdir()) == []
    finally:
        for link in planted:
            link.unlink(missing_ok=True)


def test_services_get_a_minimal_environment(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    secrets = {"RISO_TEST_TOKEN": "hunter2", "PGPASSWORD": "x", "REDISCLI_AUTH": "y"}
    done = riso("up", "-d", cwd=root, env={"RISO_PLAN": str(slow_plan(root)), **secrets})
    assert done.code == 0, done.output
    [pid] = working_in(root / ".riso/state/slow")
    environ = dict(
        item.split(b"=", 1) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in item
    )
    assert not {k.encode() for k in secrets} & set(environ)
    assert set(environ) <= {k.encode() for k in (*process.INHERITED, "HOME")}
    assert environ[b"HOME"] == str(root / ".riso/state/slow").encode()
    assert riso("down", cwd=root, env={"RISO_PLAN": str(root / "plan.json")}).code == 0


def test_a_plan_with_a_broad_data_dir_never_stops_the_users_own_programs(area: Path) -> None:
    root = write_project(area / "project", ["cache"])
    plan_file = slow_plan(root)
    plan = json.loads(plan_file.read_text())
    plan["services"][0]["data_dir"] = "{root}"  # the service works in the project folder itself
    plan_file.write_text(json.dumps(plan))
    env = {"RISO_PLAN": str(plan_file)}
    # The user's own program: the same interpreter, in the same folder.
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"], cwd=root)
    try:
        assert riso("up", "-d", cwd=root, env=env).code == 0
        assert riso("down", cwd=root, env=env).stdout.strip() == "stopped: slow"
        assert bystander.poll() is None
        assert working_in(root) == [bystander.pid]
        down = riso("down", "--volumes", cwd=root, env=env)
        assert down.code == 0 and "outside .riso/state; not deleted" in down.stderr
        assert (root / "pyproject.toml").exists() and (root / "plan.json").exists()
    finally:
        bystander.kill()
        bystander.wait()
