"""The database feature's commands, and `check` naming the database when it is down."""

from __future__ import annotations

import json

import pytest

from myapi.cli import main
from tests.database.fixtures import Alembic


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


def errors(stderr: str) -> list[str]:
    """The error lines of a run (JSON log lines may stand beside them), and never a traceback."""
    assert "Traceback" not in stderr
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.usefixtures("service_environment")
def test_a_command_says_in_one_line_that_the_database_is_down(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], closed_port: int
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://postgres@127.0.0.1:{closed_port}/app")
    assert main(["items", "list"]) == 1
    assert errors(capsys.readouterr().err) == [
        "error: the database does not answer: check DATABASE_URL and that Postgres runs (`riso up`)"
    ]


@pytest.mark.usefixtures("service_environment")
def test_a_command_on_an_unmigrated_database_says_to_migrate(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    database_url: str,
    run_alembic: Alembic,
) -> None:
    run_alembic("downgrade", database_url, "base")
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["items", "list"]) == 1
    assert errors(capsys.readouterr().err) == [
        "error: the database schema is not up to date: run `alembic upgrade head`"
    ]
