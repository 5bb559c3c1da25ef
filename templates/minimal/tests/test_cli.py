"""The command line, run in-process the way `python -m myapp` runs it."""

from __future__ import annotations

import asyncio
import json
from importlib import import_module
from pathlib import Path

import pytest

from myapp.cli import build_parser, main
from myapp.core.config import Settings
from myapp.core.resources import open_resources
from myapp.features import FEATURES
from tests.test_config import example_environment


async def probe_names(settings: Settings) -> list[str]:
    async with open_resources(settings) as resources:
        return sorted(resources.probes)


@pytest.mark.usefixtures("service_environment")
def test_check_probes_every_dependency(
    capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    assert main(["check"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "ready"
    assert sorted(report["checks"]) == asyncio.run(probe_names(settings))
    assert set(report["checks"].values()) <= {"ok"}


@pytest.mark.usefixtures("service_environment")
def test_a_missing_setting_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in example_environment():  # every setting without a default
        with monkeypatch.context() as changed:
            changed.delenv(name)
            assert main(["check"]) == 2
            assert capsys.readouterr().err == f"error: setting {name}: Field required\n"


def bad_environment() -> list[tuple[str, str]]:
    """Values every setting must refuse, from each feature's test fixtures (`BAD_ENV`)."""
    found = [("LOG_LEVEL", "bogus"), ("ENVIRONMENT", "development"), ("ENVIRONMENT", "")]
    for feature in FEATURES:
        module = import_module(f"tests.{feature.name}.fixtures")
        bad: dict[str, list[str]] = getattr(module, "BAD_ENV", {})
        found += [(name, value) for name, values in bad.items() for value in values]
    return found


@pytest.mark.parametrize(("name", "value"), bad_environment())
def test_a_bad_value_is_one_line_and_exit_2(
    name: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    for example, valid in example_environment().items():
        monkeypatch.setenv(example, valid)
    monkeypatch.setenv(name, value)
    assert main(["check"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: setting {name}: ")
    assert captured.err.count("\n") == 1
    assert captured.out == ""
    for secret in ("hunter2", *example_environment().values()):
        assert secret not in captured.err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
