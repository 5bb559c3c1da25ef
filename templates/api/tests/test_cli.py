"""The command line, run in-process the way `python -m myapi` runs it."""

from __future__ import annotations

import asyncio
import json

import pytest

from myapi.cli import build_parser, main
from myapi.core.config import Settings
from myapi.core.resources import open_resources
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


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
