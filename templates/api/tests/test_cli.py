"""The command line, run in-process the way `python -m myapi` runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from myapi.cli import build_parser, main


@pytest.fixture
def environment(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    database_url: str,
    redis_url: str,
) -> None:
    """The test services in the environment, and a folder without a `.env`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("APP_NAME", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)


@pytest.mark.usefixtures("environment")
def test_check_reports_ready(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "ready"
    assert sorted(report["checks"]) == ["cache", "database"]


@pytest.mark.usefixtures("environment")
def test_check_names_the_database_when_it_is_down(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], closed_port: int
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{closed_port}/app")
    assert main(["check"]) == 1
    assert json.loads(capsys.readouterr().out)["failing"] == ["database"]


@pytest.mark.usefixtures("environment")
def test_missing_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL")
    assert main(["check"]) == 2
    assert capsys.readouterr().err == "error: setting DATABASE_URL: Field required\n"


@pytest.mark.usefixtures("environment")
def test_items_add_then_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["items", "add", "first", "--description", "from the CLI"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["name"] == "first"
    assert main(["items", "list"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed == [added]


def test_serve_takes_host_and_port() -> None:
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 9000)


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
