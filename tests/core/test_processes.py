"""The project's own processes under `riso up`: real programs, a real Redis, found by scanning /proc.

Each test's project runs a small HTTP server (server.py below) that first checks Redis answers
(so it can only be ready after its dependency), and reports its environment on GET /.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from core_support import RISO, Result, needs_redis, open_folder, riso, write_project
from fault_support import cli_env, one_line_error, wait_for, working_in

from riso.runner import process

pytestmark = needs_redis

SERVER = r"""
import http.server, json, os, socket, subprocess, sys, time

port = int(sys.argv[1])
host, redis_port = os.environ["REDIS_URL"].split("//")[1].split("/")[0].split(":")
with socket.create_connection((host, int(redis_port)), timeout=2) as conn:  # fails unless Redis is up
    conn.sendall(b"*1\r\n$4\r\nPING\r\n")
    assert conn.recv(64).startswith(b"+PONG")
print("server: redis answered", flush=True)
if os.environ.get("GRANDCHILD"):  # like uvicorn --reload: the server runs in a child of its own
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
time.sleep(float(os.environ.get("START_DELAY", "0")))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        names = ("REDIS_URL", "GREETING", "WEB_URL", "VIRTUAL_ENV", "PATH")
        body = json.dumps({name: os.environ.get(name) for name in names}).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def web_table(name: str = "web", **keys: object) -> str:
    """`[tool.riso.processes.<name>]` running server.py, with `keys` over the defaults below."""
    table: dict[str, object] = {
        "command": [sys.executable, "{root}/server.py", "{port}"],
        "port": 0,
        "depends_on": ["redis"],
        "readiness": {"type": "http", "path": "/"},
        "env": {"GREETING": "hello {port:redis}"},
        "exports": {"WEB_URL": "http://{host}:{port}"},
        "backoff": 0.2,
        **keys,
    }
    lines = [f"[tool.riso.processes.{name}]"] + [f"{k} = {_toml(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def make(root: Path, *tables: str) -> Path:
    write_project(root, ["cache"], "".join(tables))
    (root / "server.py").write_text(SERVER, encoding="utf-8")
    return root


@pytest.fixture
def project() -> Iterator[Path]:
    """A project folder; afterwards `riso down`, and nothing may work in it any more."""
    root = open_folder("riso-proc-")
    yield root
    if (root / "pyproject.toml").exists():
        riso("down", "--volumes", cwd=root)
    left = working_in(root)
    process.kill_all({pid: started for pid in left if (started := process.start_time(pid)) is not None})
    shutil.rmtree(root, ignore_errors=True)
    assert not left, f"processes {left} still work in {root} after `riso down`"


def statuses(root: Path) -> dict[str, dict[str, object]]:
    done = riso("status", "--json", cwd=root)
    return {s["name"]: s for s in json.loads(done.stdout)}


def until(check: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `check` (a `riso` command, so not too often) until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def get(url: str) -> dict[str, str]:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as answer:
        result: dict[str, str] = json.loads(answer.read())
    return result


def env_of(root: Path) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in riso("env", cwd=root).stdout.splitlines())
    return {k: v.strip("'") for k, v in pairs}


def child_pid(root: Path, name: str = "web") -> int:
    pid = statuses(root)[name]["pid"]
    assert isinstance(pid, int), statuses(root)
    return pid


def log_of(root: Path, name: str = "web") -> str:
    return (root / ".riso" / "logs" / f"{name}.log").read_text(encoding="utf-8", errors="replace")


# --- starting, env, status, logs, down ------------------------------------------------------------


def test_a_process_starts_after_its_service_with_its_env_and_down_stops_it(project: Path) -> None:
    root = make(project, web_table())
    up = riso("up", "-d", cwd=root)
    assert up.code == 0, up.output
    assert up.stdout.startswith("ready: redis (port ") and ", web (port " in up.stdout
    exports = env_of(root)
    seen = get(exports["WEB_URL"] + "/")
    assert seen["REDIS_URL"] == exports["REDIS_URL"]
    assert seen["GREETING"] == f"hello {exports['REDIS_URL'].rsplit(':', 1)[1].split('/')[0]}"
    assert seen["WEB_URL"] == exports["WEB_URL"]  # every export of `riso env` reaches the process
    web = statuses(root)["web"]
    assert (web["kind"], web["state"], web["healthy"], web["restarts"]) == ("process", "running", True, 0)
    text = riso("status", cwd=root)
    assert text.code == 0 and any(line.split()[:2] == ["web", "running"] for line in text.stdout.splitlines())
    assert "server: redis answered" in riso("logs", "web", cwd=root).stdout
    assert "web" in riso("logs", cwd=root).stdout
    one_line_error(riso("logs", "nosuch", cwd=root), "unknown service or process 'nosuch'", "processes: web")
    again = riso("up", "-d", cwd=root)
    assert "already running: redis, web; nothing changed" in again.stdout
    down = riso("down", cwd=root)
    assert down.stdout.strip() == "stopped: web, redis", down.output
    assert working_in(root) == []
    assert not list((root / ".riso" / "run").glob("web.*"))


def test_command_readiness_waits_for_the_command(project: Path) -> None:
    probe = "import socket; socket.create_connection(('{host}', {port}), 1)"
    ready = {"type": "command", "command": f'{sys.executable} -c "{probe}"'}
    root = make(project, web_table(readiness=ready, env={"START_DELAY": "1"}))
    began = time.monotonic()
    up = riso("up", "-d", "web", cwd=root)
    assert up.code == 0, up.output
    assert time.monotonic() - began >= 1.0
    assert statuses(root)["web"]["healthy"] is True


def test_up_of_one_process_brings_its_dependencies_and_services_only_none(project: Path) -> None:
    root = make(project, web_table(), web_table("other", depends_on=["web"]))
    only = riso("up", "-d", "--services-only", cwd=root)
    assert only.code == 0 and only.stdout.strip().startswith("ready: redis"), only.output
    shown = statuses(root)
    assert (shown["redis"]["state"], shown["web"]["state"], shown["other"]["state"]) == (
        "running",
        "stopped",
        "stopped",
    )
    assert riso("status", cwd=root).code == 0  # processes not asked for are not failing
    one = riso("up", "-d", "other", cwd=root)
    assert one.code == 0 and one.stdout.startswith("ready: web (port "), one.output
    assert {n: s["state"] for n, s in statuses(root).items()} == {
        "redis": "running",
        "web": "running",
        "other": "running",
    }


# --- crashes and the restart policy ----------------------------------------------------------------


def test_kill_9_of_a_process_is_restarted_logged_and_counted(project: Path) -> None:
    root = make(project, web_table(restart="on-failure"))
    assert riso("up", "-d", cwd=root).code == 0
    first = child_pid(root)
    os.kill(first, signal.SIGKILL)
    until(lambda: statuses(root)["web"]["restarts"] == 1, 10, "a restart")
    until(lambda: statuses(root)["web"]["state"] == "running" and statuses(root)["web"]["healthy"], 20, "running again")
    web = statuses(root)["web"]
    assert web["restarts"] == 1 and web["pid"] != first
    assert "riso: web was killed by SIGKILL, restarting in 0.2s (restart 1 of 5)" in log_of(root)
    assert "restarts 1" in riso("status", cwd=root).stdout


def test_kill_9_without_restart_shows_crashed(project: Path) -> None:
    root = make(project, web_table(restart="no"))
    assert riso("up", "-d", cwd=root).code == 0
    os.kill(child_pid(root), signal.SIGKILL)
    until(lambda: statuses(root)["web"]["state"] == "crashed", 10, "crashed")
    one_line_error(riso("status", cwd=root), "web is crashed")
    assert "web was killed by SIGKILL (restart = 'no': not restarted)" in log_of(root)
    up = riso("up", "-d", cwd=root)  # `up` starts it again
    assert up.code == 0 and "ready: web" in up.stdout and statuses(root)["web"]["state"] == "running"


def test_a_crash_loop_backs_off_then_gives_up(project: Path) -> None:
    loop = {"command": ["sh", "-c", "echo started; sleep 0.7; exit 3"], "depends_on": [], "max_restarts": 2}
    root = make(project, web_table("loop", readiness={"type": "none"}, port=None, env={}, exports={}, **loop))
    up = riso("up", "-d", "loop", cwd=root)
    assert up.code == 0, up.output
    until(lambda: statuses(root)["loop"]["state"] == "crashed", 20, "the supervisor giving up")
    loop_status = statuses(root)["loop"]
    assert loop_status["restarts"] == 2 and loop_status["pid"] is None
    text = log_of(root, "loop")
    assert "riso: loop exited with code 3, restarting in 0.2s (restart 1 of 2)" in text
    assert "riso: loop exited with code 3, restarting in 0.4s (restart 2 of 2)" in text
    assert "riso: loop exited with code 3; gave up after 2 restarts in a row" in text
    assert text.count("started") == 3
    one_line_error(riso("status", cwd=root), "loop is crashed")


def test_a_killed_supervisor_leaves_nothing_running(project: Path) -> None:
    root = make(project, web_table(env={"GRANDCHILD": "1"}))
    assert riso("up", "-d", cwd=root).code == 0
    record = json.loads((root / ".riso/run/web.process").read_text())
    program = child_pid(root)
    os.kill(record["pid"], signal.SIGKILL)
    until(lambda: statuses(root)["web"]["state"] == "crashed", 10, "crashed")
    assert process.start_time(program) is not None  # the program outlived its supervisor...
    up = riso("up", "-d", cwd=root)  # ...until the next `up` clears it and starts a new one
    assert up.code == 0 and "ready: web" in up.stdout, up.output
    wait_for(lambda: process.start_time(program) is None, 10, "the old program gone")


# --- stopping: Ctrl-C, down while starting ---------------------------------------------------------


def test_ctrl_c_of_foreground_up_stops_processes_then_services(project: Path) -> None:
    root = make(project, web_table(env={"GRANDCHILD": "1"}))
    proc = subprocess.Popen(
        [RISO, "up"], cwd=root, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        while "Ctrl-C stops them" not in (line := proc.stdout.readline()):
            assert line, proc.stderr.read() if proc.stderr else ""
        assert len(working_in(root)) >= 4  # redis, the supervisor, the server and its child
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert "stopped: web, redis" in out and "Traceback" not in err, out + err
    assert proc.returncode == 0
    assert working_in(root) == []


def test_foreground_up_stops_everything_once_a_process_is_given_up_on(project: Path) -> None:
    crash = {"command": ["sh", "-c", "sleep 0.8; exit 5"], "max_restarts": 0, "readiness": {"type": "none"}}
    root = make(project, web_table("loop", port=None, env={}, exports={}, **crash))
    done = subprocess.run([RISO, "up"], cwd=root, env=cli_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stdout + done.stderr
    assert "stopped: redis" in done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith("error: loop stopped unexpectedly")
    assert "riso: loop exited with code 5; gave up after 0 restarts in a row" in log_of(root, "loop")
    assert working_in(root) == []


def test_down_while_a_process_is_still_starting(project: Path) -> None:
    root = make(project, web_table(env={"START_DELAY": "2"}))
    up = subprocess.Popen(
        [RISO, "up", "-d"], cwd=root, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: (root / ".riso/run/web.process").exists(), 30, "the supervisor started")
        down = riso("down", cwd=root)
        out, err = up.communicate(timeout=60)
    finally:
        up.kill()
        up.wait()
    assert up.returncode == 0 and "Traceback" not in err, out + err
    assert down.code == 0 and down.stdout.strip() == "stopped: web, redis", down.output
    assert working_in(root) == []


# --- faults: a missing command, a copied folder, a foreign pid, bad state ---------------------------


def test_a_missing_command_is_one_line_and_starts_nothing(project: Path) -> None:
    root = make(project, web_table(command=["no-such-program-riso", "{port}"]))
    done = riso("up", "-d", cwd=root)
    one_line_error(done, "web: command 'no-such-program-riso' not found", "--services-only")
    assert working_in(root) == []
    assert statuses(root)["web"]["state"] == "missing"
    allowed = riso("up", "-d", "--allow-missing", cwd=root)
    assert allowed.code == 0 and "warning: skipping web: command 'no-such-program-riso' not found" in allowed.stderr
    assert statuses(root)["redis"]["state"] == "running"


def test_a_process_that_exits_before_it_is_ready_is_named_with_its_log(project: Path) -> None:
    root = make(project, web_table(command=[sys.executable, "-c", "print('boom'); raise SystemExit(4)"]))
    done = riso("up", "-d", "web", cwd=root)
    line = one_line_error_multiline(done)
    assert "web exited with code 4 before it was ready; last lines of .riso/logs/web.log:" in line
    assert "boom" in done.stderr
    assert [p for p in working_in(root) if "supervise.py" in " ".join(process.cmdline(p) or [])] == []


def one_line_error_multiline(result: Result) -> str:
    """A failure whose `error:` line is followed by the log's last lines."""
    assert result.code != 0
    assert "Traceback" not in result.stderr and result.stderr.startswith("error: "), result.stderr
    return result.stderr.splitlines()[0]


def test_a_copied_project_never_signals_the_originals_process(project: Path) -> None:
    root = make(project / "original", web_table())
    assert riso("up", "-d", cwd=root).code == 0
    program = child_pid(root)
    copy = project / "copy"
    shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns("*.sock", "lock"))
    try:
        assert statuses(copy)["web"]["state"] != "running"
        riso("down", cwd=copy)
        assert process.start_time(program) is not None
        assert statuses(root)["web"]["state"] == "running" and child_pid(root) == program
    finally:
        riso("down", cwd=copy)
        riso("down", cwd=root)


def test_a_record_naming_an_unrelated_process_is_never_signalled(project: Path) -> None:
    root = make(project, web_table())
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], cwd=root)
    try:
        run = root / ".riso" / "run"
        run.mkdir(parents=True)
        record = {
            "pid": bystander.pid,
            "start_time": process.start_time(bystander.pid),
            "executable": process.real(sys.executable),
            "home": str(root / ".riso" / "state" / "web"),
            "port": 1234,
        }
        (run / "web.process").write_text(json.dumps(record))
        assert statuses(root)["web"]["state"] != "running"
        assert riso("down", cwd=root).code == 0
        assert bystander.poll() is None
        up = riso("up", "-d", cwd=root)
        assert up.code == 0 and bystander.poll() is None and statuses(root)["web"]["state"] == "running"
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.parametrize("name", ["web.process", "web.status"])
def test_a_corrupt_process_file_is_one_clear_line(project: Path, name: str) -> None:
    root = make(project, web_table())
    assert riso("up", "-d", cwd=root).code == 0
    (root / ".riso" / "run" / name).write_bytes(b"\xff\xfe garbage \x00")
    one_line_error(riso("status", cwd=root), f".riso/run/{name}")
    one_line_error(riso("up", "-d", cwd=root), f".riso/run/{name}")
    # `down` finds the supervisor from its folder (as a service from its data dir) and stops it
    down = riso("down", cwd=root)
    assert down.code == 0 and down.stdout.strip() == "stopped: web, redis", down.output
    assert working_in(root) == []


# --- the default app ----------------------------------------------------------------------------------

FAKE_UVICORN = """#!{python}
# A stand-in for uvicorn: serves /healthz on --port and reports its arguments and environment.
import http.server, json, os, subprocess, sys

args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # --reload's worker


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"argv": args, "env": dict(os.environ)}}).encode()
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def test_the_default_app_runs_from_the_projects_venv(project: Path) -> None:
    root = write_project(project, ["api", "cache"], "[tool.riso.processes.app]\nport = 0\n")
    missing = riso("up", "-d", cwd=root)
    one_line_error(missing, "app: command 'uvicorn' not found (looked in .venv/bin and on PATH)")
    venv = root / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "uvicorn").write_text(FAKE_UVICORN.format(python=sys.executable))
    (venv / "uvicorn").chmod(0o755)
    (root / "src").mkdir()
    up = riso("up", "-d", cwd=root)
    assert up.code == 0 and "app (port " in up.stdout, up.output
    exports = env_of(root)
    answer = get_any(exports["APP_URL"] + "/healthz")
    assert answer["argv"][:3] == ["demo.main:create_app", "--factory", "--reload"]
    assert answer["env"]["REDIS_URL"] == exports["REDIS_URL"]
    assert answer["env"]["VIRTUAL_ENV"] == str(root / ".venv")
    assert answer["env"]["PATH"].split(os.pathsep)[0] == str(venv)
    assert statuses(root)["app"]["healthy"] is True
    assert riso("down", cwd=root).stdout.strip() == "stopped: app, redis"
    assert working_in(root) == []


def get_any(url: str) -> dict[str, object]:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as answer:
        result: dict[str, object] = json.loads(answer.read())
    return result
