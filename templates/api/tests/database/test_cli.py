"""The database feature's commands, and `check` naming the database when it is down."""

from __future__ import annotations

import json

import pytest

from myapi.cli import main


@pytest.mark.usefixtures("service_environment")
def test_check_names_the_database_when_it_is_down(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], closed_port: int
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{closed_port}/app")
    assert main(["check"]) == 1
    assert json.loads(capsys.readouterr().out)["failing"] == ["database"]


@pytest.mark.usefixtures("service_environment")
def test_items_add_then_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["items", "add", "first", "--description", "from the CLI"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["name"] == "first"
    assert main(["items", "list"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed == [added]
