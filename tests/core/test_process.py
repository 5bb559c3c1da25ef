"""Processes: own session, identity by start time, graceful stop then SIGKILL, no children left."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from riso.runner import process

# A parent that starts two children and waits: all three share the session riso gives it.
FAMILY = "sleep 60 & sleep 60 & wait"
# A server that ignores the graceful signal.
STUBBORN = "trap '' TERM INT; sleep 60 & wait; sleep 60"


def spawn(tmp_path: Path, script: str) -> subprocess.Popen[bytes]:
    return process.spawn(["sh", "-c", script], log=tmp_path / "log", cwd=tmp_path, env=dict(os.environ))


def ident(proc: subprocess.Popen[bytes], started: int, home: Path) -> process.Identity:
    return process.Identity(proc.pid, started, None, process.real(home))


def process_sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except ProcessLookupError:
        return None


def members_eventually(pid: int, started: int, count: int) -> list[int]:
    deadline = time.monotonic() + 5
    while len(members := process.family(pid, started)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return members


def test_spawn_gives_a_new_session_and_stop_leaves_nothing(tmp_path: Path) -> None:
    proc = spawn(tmp_path, FAMILY)
    started = process.start_time(proc.pid)
    assert started is not None
    assert os.getsid(proc.pid) == proc.pid
    members = members_eventually(proc.pid, started, 3)
    assert len(members) == 3
    assert process.stop(ident(proc, started, tmp_path), "SIGTERM", 5)
    assert [pid for pid in members if process.start_time(pid) is not None] == []


def test_stop_escalates_to_sigkill_after_the_timeout(tmp_path: Path) -> None:
    proc = spawn(tmp_path, STUBBORN)
    started = process.start_time(proc.pid)
    assert started is not None
    members = members_eventually(proc.pid, started, 2)
    begun = time.monotonic()
    assert process.stop(ident(proc, started, tmp_path), "SIGTERM", 0.3) is False
    assert 0.3 <= time.monotonic() - begun < 5
    assert [pid for pid in members if process.start_time(pid) is not None] == []


def test_a_recycled_pid_is_not_ours(tmp_path: Path) -> None:
    proc = spawn(tmp_path, "sleep 60")
    started = process.start_time(proc.pid)
    assert started is not None
    assert process.is_running(proc.pid, started)
    assert not process.is_running(proc.pid, started + 1)  # same pid, other start time
    assert process.family(proc.pid, started + 1) == {}  # never signalled
    process.stop(ident(proc, started + 1, tmp_path), "SIGTERM", 1)
    assert process.is_running(proc.pid, started)  # untouched
    process.stop(ident(proc, started, tmp_path), "SIGTERM", 5)
    assert not process.is_running(proc.pid, started)


def test_children_outliving_a_killed_parent_are_found_and_killed(tmp_path: Path) -> None:
    proc = spawn(tmp_path, FAMILY)
    started = process.start_time(proc.pid)
    assert started is not None
    children = [p for p in members_eventually(proc.pid, started, 3) if p != proc.pid]
    os.kill(proc.pid, 9)
    proc.wait()
    assert not process.is_running(proc.pid, started)
    assert sorted(process.family(proc.pid, started)) == sorted(children)
    process.kill_leftovers(ident(proc, started, tmp_path))
    assert [pid for pid in children if process.start_time(pid) is not None] == []


def test_a_zombie_counts_as_gone(tmp_path: Path) -> None:
    proc = spawn(tmp_path, "exit 0")
    started = process.start_time(proc.pid) or 0
    time.sleep(0.2)  # exited, not yet reaped: a zombie
    assert not process.is_running(proc.pid, started)


def test_run_reports_the_exit_code_and_logs_output(tmp_path: Path) -> None:
    log = tmp_path / "log"
    code = process.run(["sh", "-c", "echo hello; exit 3"], log=log, cwd=tmp_path, env=dict(os.environ))
    assert code == 3
    assert "hello" in log.read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="the privilege drop happens only as root")
def test_service_user_is_unprivileged_and_can_run_a_process(tmp_path: Path) -> None:
    user = process.service_user()
    assert user.uid != 0 and user.gid != 0
    probe = process.run(["id", "-u"], log=tmp_path / "log", cwd=Path("/"), env=dict(os.environ), user=user)
    assert probe == 0
    assert (tmp_path / "log").read_text().strip() == str(user.uid)


def test_can_traverse_follows_the_mode_bits(tmp_path: Path) -> None:
    me = process.Credentials(name="nobody", uid=65534, gid=65534)
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    for folder in (tmp_path, tmp_path / "a", inner):
        folder.chmod(0o755)
    reachable = all(process.can_traverse(p, me) for p in (Path("/"),))
    assert reachable
    if process.can_traverse(tmp_path, me):  # pytest's base dir may itself be private
        assert process.can_traverse(inner, me)
        (tmp_path / "a").chmod(0o700)
        assert not process.can_traverse(inner, me)
        (tmp_path / "a").chmod(0o755)
    tmp_path.chmod(0o700)
    assert not process.can_traverse(inner, me)


def test_children_in_sessions_of_their_own_are_stopped_too(tmp_path: Path) -> None:
    # Postgres gives each backend its own session; they are found through their parent.
    proc = spawn(tmp_path, "setsid sleep 60 & setsid sleep 60 & wait")
    started = process.start_time(proc.pid)
    assert started is not None
    deadline = time.monotonic() + 10
    while True:  # until both children have called setsid (and exec'd sleep)
        members = list(process.family(proc.pid, started))
        leaders = [p for p in members if p != proc.pid and process_sid(p) == p]
        if (len(members) == 3 and len(leaders) == 2) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert len(members) == 3 and len(leaders) == 2
    process.stop(ident(proc, started, tmp_path), "SIGTERM", 5)
    assert [pid for pid in members if process.start_time(pid) is not None] == []
