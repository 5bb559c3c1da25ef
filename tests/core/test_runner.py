"""The Runner library on Redis (fast to start): idempotence, ports, crashes, failures, foreground mode."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from core_support import (
    RISO,
    alive,
    build_plan,
    needs_postgres,
    needs_prometheus,
    needs_redis,
    project_pids,
    redis_runner,
    riso,
    write_project,
)

from riso.errors import RisoError
from riso.plan_model import Command, Readiness
from riso.runner import Runner, process
from riso.runner.state import Layout, read_pid, read_ports

pytestmark = needs_redis


def ping(url: str) -> bool:
    host, port = url.removeprefix("redis://").split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=2) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(16).startswith(b"+PONG")


def test_up_is_idempotent_and_down_stops_everything(folder: Path) -> None:
    runner = redis_runner(folder)
    first = runner.up()
    assert first.started == ["redis"] and first.already_running == []
    assert ping(runner.env()["REDIS_URL"])
    [status] = runner.status()
    assert (status.state, status.healthy) == ("running", True)
    record = read_pid(runner.layout, "redis")
    again = runner.up()
    assert again.started == [] and again.already_running == ["redis"]
    assert read_pid(runner.layout, "redis") == record
    pids = project_pids(folder)
    assert runner.down() == ["redis"]
    assert alive(pids) == []
    assert runner.status()[0].state == "stopped"
    assert runner.down() == []  # nothing left to stop


def test_allocated_port_is_stable_and_moves_only_when_taken(folder: Path) -> None:
    runner = redis_runner(folder)
    url = runner.env()["REDIS_URL"]  # allocated before the first up, and remembered
    runner.up()
    assert runner.env()["REDIS_URL"] == url
    runner.down()
    runner.up()
    assert runner.env()["REDIS_URL"] == url
    runner.down()
    port = read_ports(runner.layout)["redis"]
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        runner.up()
        moved = read_ports(runner.layout)["redis"]
        assert moved != port
        assert runner.env()["REDIS_URL"] == url.replace(str(port), str(moved))
        assert ping(runner.env()["REDIS_URL"])
    runner.down()


def test_two_runners_on_two_projects_get_different_ports(folder: Path) -> None:
    one, two = redis_runner(folder / "one"), redis_runner(folder / "two")
    try:
        one.up()
        two.up()
        assert one.env()["REDIS_URL"] != two.env()["REDIS_URL"]
        assert ping(one.env()["REDIS_URL"]) and ping(two.env()["REDIS_URL"])
    finally:
        one.down()
        two.down()


def test_a_killed_service_is_crashed_then_restarted(folder: Path) -> None:
    runner = redis_runner(folder)
    runner.up()
    record = read_pid(runner.layout, "redis")
    assert record is not None
    os.kill(record.pid, signal.SIGKILL)
    assert process.wait_gone(record.pid, record.start_time, 5)
    [status] = runner.status()
    assert status.state == "crashed"
    assert [s.name for s in runner.failing(runner.status())] == ["redis"]
    assert runner.up().started == ["redis"]
    assert runner.status()[0].state == "running"
    runner.down()


def test_a_server_that_exits_is_named_with_its_log(folder: Path) -> None:
    runner = redis_runner(folder, '[tool.riso.services.redis]\nsettings = { "no-such-option" = "1" }\n')
    with pytest.raises(RisoError) as caught:
        runner.up()
    message = str(caught.value)
    assert message.startswith("redis exited with code")
    assert ".riso/logs/redis.log" in message and "no-such-option" in message  # redis' own complaint
    assert len(message.splitlines()) <= 12
    assert read_pid(runner.layout, "redis") is None


def test_a_server_that_never_gets_ready_is_stopped_and_named(folder: Path) -> None:
    write_project(folder, ["cache"])
    plan = build_plan(["cache"])
    svc = plan.services[0]
    svc.start = ["sh", "-c", "echo waiting forever; sleep 60 & wait"]
    svc.readiness = Readiness(type="redis", timeout=0.5)
    runner = Runner(plan, folder)
    begun = time.monotonic()
    with pytest.raises(RisoError, match=r"redis did not become ready within 0\.5s(.|\n)*waiting forever"):
        runner.up()
    assert time.monotonic() - begun < 10
    assert read_pid(runner.layout, "redis") is None
    assert project_pids(folder) == []


def test_post_start_command_runs_with_the_exports_and_failure_stops_the_service(folder: Path) -> None:
    write_project(folder, ["cache"])
    plan = build_plan(["cache"])
    plan.services[0].post_start = [Command(argv=["sh", "-c", 'echo "$REDIS_URL {port}" > {root}/hook.out'])]
    runner = Runner(plan, folder)
    runner.up()
    url = runner.env()["REDIS_URL"]
    port = read_ports(runner.layout)["redis"]
    assert (folder / "hook.out").read_text().split() == [url, str(port)]
    runner.down()
    failing = plan.model_copy(deep=True)
    failing.services[0].post_start = [Command(argv=["sh", "-c", "echo broken >&2; exit 3"])]
    with pytest.raises(RisoError, match=r"redis: post_start command .* exited 3: broken"):
        Runner(failing, folder).up()
    assert read_pid(runner.layout, "redis") is None


@needs_postgres
def test_up_of_one_service_leaves_the_others_alone(folder: Path) -> None:
    write_project(folder, ["database", "cache"])
    runner = Runner(build_plan(["database", "cache"]), folder)
    assert runner.up(["redis"]).started == ["redis"]
    states = {s.name: s.state for s in runner.status()}
    assert states == {"postgres": "stopped", "redis": "running"}
    assert runner.expected() == ["redis"]
    assert runner.failing(runner.status()) == []
    runner.down()


@needs_prometheus
def test_dependencies_come_along_and_missing_ones_are_skipped_only_when_allowed(folder: Path) -> None:
    write_project(folder, ["monitoring"])
    plan = build_plan(["monitoring"])
    if Runner.missing_binary(plan.service("grafana")) is None:
        pytest.skip("Grafana is installed here")
    with pytest.raises(RisoError, match="grafana: binary 'grafana' not found"):
        Runner(plan, folder).up(["grafana"])
    runner = Runner(plan, folder, allow_missing=True)
    result = runner.up(["grafana"])
    assert result.started == ["prometheus"] and list(result.skipped) == ["grafana"]
    assert "GRAFANA_URL" not in runner.env()
    runner.down()


def test_foreground_up_stops_everything_on_ctrl_c_and_sigterm(folder: Path) -> None:
    write_project(folder, ["cache"])
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen([RISO, "up"], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Ctrl-C" in line or not line:
                break
        assert any("ready: redis" in line for line in lines), lines
        record = read_pid(Layout(folder), "redis")
        assert record is not None and process.is_running(record.pid, record.start_time)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "stopped: redis" in out
        assert not process.is_running(record.pid, record.start_time)
        assert read_pid(Layout(folder), "redis") is None


def test_foreground_up_exits_when_a_service_crashes(folder: Path) -> None:
    write_project(folder, ["cache"])
    proc = subprocess.Popen([RISO, "up"], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "Ctrl-C" not in proc.stdout.readline():
        pass
    record = read_pid(Layout(folder), "redis")
    assert record is not None
    os.kill(record.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "redis stopped unexpectedly" in err and "Traceback" not in err


def test_status_env_and_logs_through_the_cli(folder: Path) -> None:
    write_project(folder, ["cache"])
    assert riso("up", "-d", cwd=folder).code == 0
    status = riso("status", cwd=folder)
    assert status.code == 0 and status.stdout.split()[:2] == ["redis", "running"]
    assert "healthy" in status.stdout
    dotenv = riso("env", "--dotenv", cwd=folder).stdout
    assert dotenv.startswith("REDIS_URL='redis://127.0.0.1:")
    assert (folder / ".riso/env").read_text() == dotenv  # written by `riso up` for direnv
    logs = riso("logs", "redis", cwd=folder)
    assert "Ready to accept connections" in logs.stdout
    follow = subprocess.Popen([RISO, "logs", "-f", "redis"], cwd=folder, stdout=subprocess.PIPE, text=True)
    try:
        assert follow.stdout is not None
        assert "riso: starting redis" in follow.stdout.readline()
    finally:
        follow.send_signal(signal.SIGINT)
        follow.wait(timeout=10)
    assert riso("down", cwd=folder).stdout.strip() == "stopped: redis"
    assert not (folder / ".riso/env").exists()
    assert riso("down", cwd=folder).stdout.strip() == "nothing was running"


def test_a_failed_foreground_up_stops_only_what_it_started(folder: Path) -> None:
    write_project(folder, ["cache"])
    plan = build_plan(["cache"])
    broken = plan.services[0].model_copy(deep=True)
    broken.name, broken.data_dir = "broken", "{state}/broken"
    broken.start = ["sh", "-c", "echo cannot start; exit 4"]
    plan.services.append(broken)
    plan_file = folder / "plan.json"
    plan_file.write_text(plan.model_dump_json())
    env = {"RISO_PLAN": str(plan_file)}
    assert riso("up", "-d", "redis", cwd=folder, env=env).code == 0
    record = read_pid(Layout(folder), "redis")
    assert record is not None
    failed = riso("up", cwd=folder, env=env)
    assert failed.code == 1 and "broken exited with code 4" in failed.stderr and "cannot start" in failed.stderr
    assert process.is_running(record.pid, record.start_time)  # started before: left running
    assert read_pid(Layout(folder), "broken") is None
    assert riso("down", cwd=folder, env=env).stdout.strip() == "stopped: redis"


def test_doctor_on_a_healthy_project(folder: Path) -> None:
    write_project(folder, ["cache"])
    report = riso("doctor", cwd=folder)
    assert report.code == 0, report.output
    assert "Redis server v=" in report.stdout and "port" in report.stdout
    assert riso("up", "-d", cwd=folder).code == 0
    running = riso("doctor", cwd=folder)
    assert running.code == 0 and "in use by redis" in running.stdout
    assert ".riso/run/ports.json readable" in running.stdout


def test_when_one_service_fails_the_others_started_stay_up_and_expected(folder: Path) -> None:
    write_project(folder, ["cache"])
    plan = build_plan(["cache"])
    broken = plan.services[0].model_copy(deep=True)
    broken.name, broken.data_dir = "broken", "{state}/broken"
    broken.start = ["sh", "-c", "exit 4"]
    plan.services.append(broken)
    runner = Runner(plan, folder)
    with pytest.raises(RisoError, match="broken exited with code 4"):
        runner.up()
    assert runner.expected() == ["redis"]
    assert {s.name: s.state for s in runner.status()} == {"redis": "running", "broken": "stopped"}
    assert runner.failing(runner.status()) == []
    assert runner.down() == ["redis"]


def test_two_concurrent_ups_start_the_service_once(folder: Path) -> None:
    write_project(folder, ["cache"])
    procs = [
        subprocess.Popen([RISO, "up", "-d"], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    texts = [out for out, _ in outputs]
    assert sum("ready: redis" in text for text in texts) == 1
    assert sum("already running: redis; nothing changed" in text for text in texts) == 1


def test_start_order_puts_dependencies_first_and_names_a_bad_dependency(folder: Path) -> None:
    plan = build_plan(["monitoring"])
    plan.services.reverse()  # grafana (depends on prometheus) first, as a hand-written plan might
    assert [s.name for s in Runner(plan, folder).order] == ["prometheus", "grafana"]
    plan.services[0].depends_on = ["mailhog"]
    with pytest.raises(RisoError, match="grafana depends on 'mailhog', which is not in the plan"):
        Runner(plan, folder).up()
    plan.services[1].depends_on = ["grafana"]
    plan.services[0].depends_on = ["prometheus"]
    with pytest.raises(RisoError, match="dependency cycle"):
        Runner(plan, folder).up()


def test_status_fails_for_a_running_service_that_does_not_answer(folder: Path) -> None:
    write_project(folder, ["cache"])
    assert riso("up", "-d", cwd=folder).code == 0
    record = read_pid(Layout(folder), "redis")
    assert record is not None
    os.kill(record.pid, signal.SIGSTOP)  # alive, but deaf
    try:
        status = riso("status", cwd=folder)
    finally:
        os.kill(record.pid, signal.SIGCONT)
    assert status.code == 1
    assert "redis is not answering its readiness probe" in status.stderr
    assert "unhealthy" in status.stdout
