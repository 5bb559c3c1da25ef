"""`.riso/` files: ports, pid records, the up marker and the lock; garbage gives one clear error."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from riso.errors import RisoError
from riso.runner.state import (
    Layout,
    PidRecord,
    StateError,
    project_lock,
    read_pid,
    read_ports,
    read_up,
    recorded_services,
    write_pid,
    write_ports,
)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    lay = Layout(tmp_path)
    lay.ensure()
    return lay


def test_ensure_makes_the_folders_and_ignores_itself(layout: Layout) -> None:
    assert layout.state.is_dir() and layout.run.is_dir() and layout.logs.is_dir()
    assert (layout.base / ".gitignore").read_text().splitlines()[-1] == "*"


def test_ports_round_trip(layout: Layout) -> None:
    assert read_ports(layout) == {}
    write_ports(layout, {"postgres": 40001, "redis": 40002})
    assert read_ports(layout) == {"postgres": 40001, "redis": 40002}


@pytest.mark.parametrize("content", ["{not json", '["a"]', '{"redis": "6379"}', '{"redis": 70000}'])
def test_garbage_ports_file_names_file_and_fix(layout: Layout, content: str) -> None:
    layout.ports_file.write_text(content)
    with pytest.raises(StateError) as caught:
        read_ports(layout)
    assert "ports.json" in str(caught.value) and "delete" in str(caught.value)
    assert layout.ports_file.read_text() == content  # left for the user to inspect


def test_pid_record_round_trip(layout: Layout) -> None:
    record = PidRecord(pid=1234, start_time=99, port=5432, data_dir="/d", socket_dir="/s", uid=0)
    write_pid(layout, "postgres", record)
    assert read_pid(layout, "postgres") == record
    assert recorded_services(layout) == ["postgres"]
    assert read_pid(layout, "redis") is None


@pytest.mark.parametrize(
    "content", ["garbage", '{"pid": 12}', '{"pid": "x", "start_time": 1, "port": 1, "data_dir": ""}']
)
def test_garbage_pid_file_names_file_and_fix(layout: Layout, content: str) -> None:
    layout.pid_file("redis").write_text(content)
    with pytest.raises(StateError, match=r"redis\.pid"):
        read_pid(layout, "redis")


def test_garbage_up_marker(layout: Layout) -> None:
    layout.up_file.write_text('{"a": 1}')
    with pytest.raises(StateError, match=r"up\.json"):
        read_up(layout)


def test_lock_excludes_a_second_holder_and_names_the_first(layout: Layout) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with project_lock(layout, timeout=1):
            held.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(5)
    started = time.monotonic()
    with pytest.raises(RisoError, match=r"another riso command \(pid \d+\)"), project_lock(layout, timeout=0.3):
        pass
    assert time.monotonic() - started >= 0.3
    release.set()
    thread.join()
    with project_lock(layout, timeout=1):  # free again
        pass


def test_lock_waits_for_a_short_holder(layout: Layout) -> None:
    held = threading.Event()

    def hold() -> None:
        with project_lock(layout, timeout=1):
            held.set()
            time.sleep(0.2)

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(5)
    with project_lock(layout, timeout=5):
        pass
    thread.join()
