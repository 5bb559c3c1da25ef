"""The command line, run in-process the way `python -m myapp` runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from myapp.cli import build_parser, main


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The test services in the environment, and a folder without a `.env`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APP_NAME", raising=False)


@pytest.mark.usefixtures("environment")
def test_check_reports_ready(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "ready"
    assert sorted(report["checks"]) == []


def test_serve_takes_host_and_port() -> None:
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 9000)


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
